import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials
import Glibc

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow sessions as they change, fed by the engine's and tmux's events.",
        discussion: """
            Prints the selected sessions, then one line per change: a session added, removed or \
            changed (containers, tmux windows and clients, the health verdict), and a resync after a \
            lost engine or tmux connection. With --json, NDJSON: a {"type":"snapshot","sessions":[...]} \
            line, then session-added, session-removed, session-changed (with "changed": the members \
            that differ) and resync lines, each flushed as it is written. While nothing happens no \
            engine request is sent. Runs until interrupted.
            """)
    @Argument(help: "Session names (default: every session).") var names: [String] = []
    @Option(help: "Shell-style pattern on session names, e.g. \"feature-*\".") var pattern: String?
    @Flag(help: "Print NDJSON, one object per line.") var json = false

    func run() async throws {
        let filter = try watchFilter(names: names, pattern: pattern)
        let manager = try await Environment.manager()
        for try await change in manager.watch(filter) {
            let now = Date()
            let line: String
            if json {
                line = change.jsonValue(at: now).serialized()
            } else {
                let stamp = String(RFC3339.format(now).dropFirst(11).prefix(8))
                line = change.text.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { "\(stamp) \($0)" }.joined(separator: "\n")
            }
            // Unbuffered: each line reaches a pipe (jq, a script) as it happens.
            StandardStream.output.write(line + "\n")
        }
    }
}

/// The sessions named, or matching `pattern`, or all; names and a pattern together are refused.
func watchFilter(names: [String], pattern: String?) throws -> WatchFilter {
    guard names.isEmpty || pattern == nil else {
        throw ValidationError("name sessions or pass --pattern, not both")
    }
    let glob: GlobPattern?
    do {
        glob = try pattern.map(GlobPattern.init)
    } catch {
        throw CommandLineFailure("invalid --pattern \"\(pattern ?? "")\": \(error)")
    }
    return WatchFilter(names: names.isEmpty ? nil : try parseNames(names), pattern: glob)
}
