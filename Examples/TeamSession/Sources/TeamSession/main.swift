import CCOrcKit
import Foundation

// One team session's day through the library: launch, list, inspect, stop, resume, stop, remove.
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
    guard arguments.count == 5 else { throw ExampleFailure(description: "usage: TeamSession PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE") }
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
    let session = try listing.sessions.first { $0.record.name == name } ?? { throw ExampleFailure(description: "\(name) is not listed") }()
    try expect(session.runningCount == 2 && session.tmux?.windows == 2, "\(name): \(session.runningCount) running, tmux \(String(describing: session.tmux))")
    print(listing.jsonValue.serialized())

    let details = try await manager.details(of: name)
    try expect(details.panes.count == 2 && details.panes.allSatisfy { !$0.isDead }, "panes: \(details.panes)")

    for (stopped, error) in try await manager.stop([name], timeout: 1) {
        if let error { throw ExampleFailure(description: "stop \(stopped): \(error)") }
    }
    try expect(try await manager.status(of: name).runningCount == 0, "\(name) still runs after stop")
    let resumed = try await manager.resume(name)
    try expect(resumed.runningCount == 2 && resumed.tmux != nil, "\(name) did not come back")
    _ = try await manager.stop([name], timeout: 1)

    // Remove what the session made: its containers, its state volumes and its registry entry.
    let made = resumed.agents.map(\.record)
    let removals = await forEachConcurrently(made) { agent in
        try await manager.engine.removeContainer(agent.containerName, force: true)
        try await manager.engine.removeVolume(agent.stateVolume, force: true)
    }
    if let failure = removals.first(where: { $0.error != nil }) { throw failure.error! }
    try expect(try manager.registry.remove([name]) == [name], "\(name) was not registered")
    try expect(try await manager.list().isEmpty, "sessions remain after removal")
    print("TeamSession: \(name) launched, listed, stopped, resumed and removed")
}

do {
    try await runExample(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("TeamSession: \(error)\n".utf8))
    exit(1)
}
