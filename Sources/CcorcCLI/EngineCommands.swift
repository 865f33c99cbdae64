import ArgumentParser
import CCOrcKit
import CLISupport

struct Engines: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the engines (docker contexts) with reachability, capacity and ccorc's sessions on each.",
        discussion: """
            Engines are the docker CLI's contexts (`docker context create NAME --docker host=tcp://HOST:2376,...`), \
            read from ~/.docker/contexts; the current one is DOCKER_HOST, DOCKER_CONTEXT or config.json's. \
            Exits 1 when an engine sessions live on does not answer.
            """)
    @Flag(help: "Print JSON: [{\"name\", \"host\", \"current\", \"reachable\", \"error\", ...}].") var json = false

    func run() async throws {
        let overview = try await Environment.manager().engineOverview()
        if json {
            printJSON(.array(overview.map(\.jsonValue)))
        } else {
            var table = TextTable(headers: ["NAME", "HOST", "STATE", "API", "CPUS", "MEMORY", "SESSIONS", "RESERVED"])
            for engine in overview {
                table.append([
                    engine.name + (engine.isCurrent ? " *" : ""), engine.host,
                    engine.problem == nil ? "reachable" : "unreachable", engine.apiVersion ?? "-",
                    engine.cpus.map(String.init) ?? "-", engine.memoryBytes.map(ResourceLimits.formatBytes) ?? "-",
                    String(engine.sessions),
                    engine.reservedMemoryBytes > 0 ? ResourceLimits.formatBytes(engine.reservedMemoryBytes) : "-",
                ])
            }
            print(table.render())
            for engine in overview where engine.problem != nil {
                printError("ccorc: engine \(engine.name): \(engine.problem!)")
            }
        }
        if overview.contains(where: { $0.problem != nil && $0.sessions > 0 }) { throw ExitStatus(1) }
    }
}
