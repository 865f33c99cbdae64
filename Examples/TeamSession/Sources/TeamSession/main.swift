import CCOrcKit
import Foundation

// One team session's day through the library: launch, list, inspect, check health, stop, resume,
// stop, clean up.
//
// Usage: TeamSession PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE
// (the engine is $DOCKER_HOST or /var/run/docker.sock; every name made starts with PREFIX-).

struct ExampleFailure: Error, CustomStringConvertible {
    var description: String
}

/// Fails the example with `message` unless `condition` holds.
func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw ExampleFailure(description: message()) }
}

func runExample(_ arguments: [String]) async throws {
    guard arguments.count == 5 else {
        throw ExampleFailure(description: "usage: TeamSession PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE")
    }
    let (prefix, tmuxServer, home, ccdk, image) = (arguments[0], arguments[1], arguments[2], arguments[3], arguments[4])

    // One manager: an engine client, a tmux control client on a private server, a registry.
    let manager = SessionManager(
        engine: try EngineClient(), tmux: TmuxControlClient(server: .named(tmuxServer)),
        registry: try SessionRegistry(home: home), shellProgram: ccdk)
    defer { manager.tmux.close() }

    var options = LaunchOptions()
    options.roles = try ["leader", "writer"].map { try AgentRole($0) }
    options.image = image
    options.agentCommand = "sh"
    options.memoryBytes = try ResourceLimits.parseMemory("128m")
    options.networkMode = "none"
    let name = try SessionName("\(prefix)-swift")

    for (launched, error) in try await manager.launch([name], options: options) {
        if let error { throw ExampleFailure(description: "launch \(launched): \(error)") }
    }
    let listing = try await manager.listing(includeOrphans: false)
    let session =
        try listing.sessions.first { $0.record.name == name }
        ?? { throw ExampleFailure(description: "\(name) is not listed") }()
    try expect(
        session.runningCount == 2 && session.tmux?.windows == 2,
        "\(name): \(session.runningCount) running, tmux \(String(describing: session.tmux))")
    print(listing.jsonValue.serialized())

    let details = try await manager.details(of: name)
    try expect(details.panes.count == 2 && details.panes.allSatisfy { !$0.isDead }, "panes: \(details.panes)")

    for (stopped, error) in try await manager.stop([name], timeout: 1) {
        if let error { throw ExampleFailure(description: "stop \(stopped): \(error)") }
    }
    try expect(try await manager.status(of: name).runningCount == 0, "\(name) still runs after stop")
    let resumed = try await manager.resume(name)
    try expect(resumed.runningCount == 2 && resumed.tmux != nil, "\(name) did not come back")
    // Healthy once both agents' shells run, a moment after resume (up to 15 s on a loaded machine).
    var health = try await manager.health(of: [name])
    for _ in 0..<60 where health.verdict != .healthy {
        try await Task.sleep(for: .milliseconds(250))
        health = try await manager.health(of: [name])
    }
    try expect(
        health.sessions.count == 1 && health.sessions[0].containers.count == 2,
        "health: \(health.jsonValue.serialized())")
    try expect(
        health.verdict == .healthy && health.sessions[0].issues.isEmpty,
        "\(name) is not healthy: \(health.jsonValue.serialized())")
    print("health of \(name): \(health.verdict.rawValue)")
    _ = try await manager.stop([name], timeout: 1)

    // Clean up by pattern: containers, state volumes, tmux session, then the registry entry.
    var selection = CleanupSelection()
    selection.patterns = [try GlobPattern("\(prefix)-*")]
    let plan = try await manager.planCleanup(selection)
    try expect(plan.items.map(\.name) == [name], "cleanup selected \(plan.items.map(\.name))")
    let report = await manager.cleanup(plan)
    try expect(
        !report.hasFailures && report.containersRemoved == 2 && report.volumesRemoved == 2,
        "cleanup: \(report.jsonValue.serialized())")
    try expect(try await manager.list().isEmpty, "sessions remain after cleanup")
    print("TeamSession: \(name) launched, listed, checked, stopped, resumed and cleaned up")
}

do {
    try await runExample(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("TeamSession: \(error)\n".utf8))
    exit(1)
}
