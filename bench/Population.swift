import CCOrcKit
import Foundation

/// Registers sessions the way launch leaves them (labelled containers created from the image's ID,
/// committed rows), without tmux or state volumes, and starts the containers of the first
/// `runningCount`.
/// - Returns: the names of the running sessions.
func plantBenchSessions(_ manager: SessionManager, names: [SessionName], tag: String, runningCount: Int) async throws -> [SessionName] {
    let engine = manager.engine
    let roles = LaunchOptions().roles
    let imageID = try await manager.engine.imageID("ccorc-busybox:latest")
    let created = await forEachConcurrently(names, width: 16) { name in
        try BenchResources.shared.checkpoint()
        let now = Date()
        var record = SessionRecord(
            name: name, tmuxSession: name.rawValue, createdAt: now, updatedAt: now, lastResumedAt: nil, image: "ccorc-busybox:latest",
            agentCommand: "sh", memoryBytes: nil, nanoCPUs: nil, networkMode: "none", mounts: [], environment: [],
            workingDirectory: nil, config: ["stateDirectory": "/root/.claude"], status: .ready,
            agents: roles.enumerated().map { index, role in
                AgentRecord(role: role, containerName: SessionManager.containerName(name, role), containerID: nil,
                            stateVolume: SessionManager.volumeName(name, role), model: nil, tmuxWindow: role.rawValue, position: index)
            })
        for agent in record.agents {
            var spec = manager.containerSpec(record, agent, mounts: [], imageID: imageID)
            spec.mounts = []
            spec.labels["ccorc.bench"] = tag
            _ = try await engine.createContainer(spec)
        }
        record.status = .launching
        try manager.registry.claim(record)
        record.status = .ready
        try manager.registry.commit(record)
    }
    if let failure = created.first(where: { $0.error != nil })?.error { throw failure }
    let running = Array(names.prefix(runningCount))
    let started = await forEachConcurrently(running.flatMap { name in roles.map { SessionManager.containerName(name, $0) } }, width: 16) {
        try BenchResources.shared.checkpoint()
        try await engine.startContainer($0)
    }
    if let failure = started.first(where: { $0.error != nil })?.error { throw failure }
    return running
}

/// Removes every container a benchmark run made (labelled with `tag`, or a session named `tag-…`) and
/// every volume of such a session.
func removeBenchLeftovers(_ engine: EngineClient, tag: String) async {
    let planted = (try? await engine.listContainers(all: true, filters: ["label": ["ccorc.bench=\(tag)"]])) ?? []
    let launched = (try? await engine.listContainers(all: true, filters: ["label": [OwnershipLabels.session]])) ?? []
    let ours = Set(planted.map(\.id) + launched.filter { $0.labels[OwnershipLabels.session]?.hasPrefix(tag + "-") == true }.map(\.id))
    _ = await forEachConcurrently(Array(ours), width: 16) { try await engine.removeContainer($0, force: true) }
    let volumes = (try? await engine.listVolumes(filters: ["label": [OwnershipLabels.session]])) ?? []
    _ = await forEachConcurrently(volumes.filter { $0.labels[OwnershipLabels.session]?.hasPrefix(tag + "-") == true }.map(\.name)) {
        try await engine.removeVolume($0, force: true)
    }
}

/// Creates a tmux session of a benchmark population, and records the server's pid once it runs.
@discardableResult
func newBenchSession(_ manager: SessionManager, _ options: TmuxNewSessionOptions) async throws -> TmuxSession {
    try BenchResources.shared.checkpoint()
    let session = try await manager.tmux.newSession(options)
    BenchResources.shared.tmuxServerStarted(onSocket: manager.tmux.socketPath)
    return session
}
