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

struct Move: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move a session to another engine (docker context), its agents' state volumes with it.",
        discussion: """
            Stops the session, copies each of its volumes through the engines' archive endpoints, copies \
            its image if the target lacks it, recreates its containers there, compares every volume on \
            both sides, and only then registers it on the target and removes it from the source. A \
            failure or Ctrl-C before that leaves the session whole where it was and says what was left \
            on the target. The session stays stopped: `ccorc resume NAME` brings it back there.
            """)
    @Argument(help: "Session name.") var name: String
    @Option(help: "The docker context to move it to.") var to: String

    func run() async throws {
        let session = try parseNames([name])[0]
        let manager = try await Environment.manager()
        let interrupts = InterruptWatch(saying: "stopping: removing what the move made on the target")
        let control = interrupts.control
        defer { interrupts.cancel() }
        let report: MoveReport
        do {
            report = try await manager.move(session, to: to, control: control) { printError("ccorc: \($0)") }
        } catch let error as MoveError where error.interrupted {
            printError("ccorc: \(error)")
            throw ExitStatus(130)
        }
        let bytes = report.volumes.reduce(Int64(0)) { $0 + $1.contentBytes }
        print(
            "moved \(session) from \(report.source) to \(report.target): \(report.volumes.count) volume(s), \(ResourceLimits.formatBytes(bytes))\(report.copiedImage ? ", image copied" : ""); resume it with `ccorc resume \(session)`"
        )
        for left in report.leftOnSource {
            printError("ccorc: warning: left on \(report.source): \(left) (remove with `ccorc cleanup --orphans`)")
        }
    }
}
