import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials

@main
struct CcdkMain {
    static func main() async {
        await CommandLineRunner.main(Ccdk.self, programName: "ccdk")
    }
}

/// `ccdk`: single containers, team ones included.
struct Ccdk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ccdk",
        abstract: "Manage single agent containers on the Docker engine.",
        discussion: """
            The engine is DOCKER_HOST (unix://PATH, or tcp://HOST:PORT with TLS from DOCKER_CERT_PATH \
            when DOCKER_TLS_VERIFY is set), else the docker context DOCKER_CONTEXT or \
            ~/.docker/config.json names (unix:// or tcp://), else /var/run/docker.sock.
            """,
        version: ccorcVersion,
        subcommands: [
            ListContainers.self, RunContainer.self, StartContainers.self, StopContainers.self, RestartContainers.self,
            RemoveContainers.self, Logs.self, Status.self, Update.self, Stats.self, Exec.self, Shell.self, Attach.self,
            ImageCommands.self,
        ])
}

/// Options every command takes to find its container.
struct InstanceArguments: ParsableArguments {
    @Option(name: [.customShort("i"), .long], help: "Container name or ID.")
    var instance: String?

    @Argument(help: "Container name or ID (instead of -i).")
    var positional: String?

    func name() throws -> String {
        guard let name = instance ?? positional else {
            throw ValidationError("name a container with -i NAME or as an argument")
        }
        return name
    }
}

/// Options for several containers: `-i NAME` (repeatable) and/or positional names.
struct InstancesArguments: ParsableArguments {
    @Option(name: [.customShort("i"), .long], help: "Container name or ID (repeatable).")
    var instance: [String] = []

    @Argument(help: "Container names or IDs.")
    var names: [String] = []

    func all() throws -> [String] {
        let all = instance + names
        guard !all.isEmpty else { throw ValidationError("name at least one container with -i NAME or as arguments") }
        return all
    }
}

/// Reports per-container results of a bulk command and fails if any failed.
func reportBulk(_ results: [(item: String, error: Error?)]) throws {
    var failures = 0
    for (name, error) in results {
        if let error {
            failures += 1
            printError("ccdk: \(name): \(error)")
        } else {
            print(name)
        }
    }
    if failures > 0 { throw ExitStatus(1) }
}

/// `--context NAME`: the docker context whose engine a command talks to, as `docker --context`.
struct EngineChoice: ParsableArguments {
    @Option(help: "Docker context to use (default: DOCKER_HOST, DOCKER_CONTEXT, or the current context).")
    var context: String?

    /// The client of the chosen engine.
    func client() throws -> EngineClient {
        guard let context else { return try EngineClient() }
        let environment = ProcessInfo.processInfo.environment
        return try EngineClient(host: EngineHost(context: DockerContexts.named(context, environment)))
    }
}
