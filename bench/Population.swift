import CCOrcKit
import Foundation

/// Registers sessions the way launch leaves them (labelled containers created from the image's ID,
/// committed rows), without tmux or state volumes, and starts the containers of the first
/// `runningCount`.
/// - Parameters:
///   - engine: the engine to plant them on, which the rows name as `engineName`; nil for the
///     manager's current engine, with rows that name none.
/// - Returns: the names of the running sessions.
func plantBenchSessions(
    _ manager: SessionManager, names: [SessionName], tag: String, runningCount: Int,
    on placed: (engine: EngineClient, name: String)? = nil
) async throws -> [SessionName] {
    let engine = placed?.engine ?? manager.engine
    let roles = LaunchOptions().roles
    let imageID = try await engine.imageID("ccorc-busybox:latest")
    let created = await forEachConcurrently(names, width: 16) { name in
        try BenchResources.shared.checkpoint()
        let now = Date()
        var record = SessionRecord(
            name: name, tmuxSession: name.rawValue, createdAt: now, updatedAt: now, lastResumedAt: nil,
            image: "ccorc-busybox:latest",
            agentCommand: "sh", memoryBytes: nil, nanoCPUs: nil, networkMode: "none", mounts: [], environment: [],
            workingDirectory: nil, config: ["stateDirectory": "/root/.claude"], status: .ready,
            agents: roles.enumerated().map { index, role in
                AgentRecord(
                    role: role, containerName: SessionManager.containerName(name, role), containerID: nil,
                    stateVolume: SessionManager.volumeName(name, role), model: nil, tmuxWindow: role.rawValue,
                    position: index)
            })
        record.engine = placed?.name
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
    let started = await forEachConcurrently(
        running.flatMap { name in roles.map { SessionManager.containerName(name, $0) } }, width: 16
    ) {
        try BenchResources.shared.checkpoint()
        try await engine.startContainer($0)
    }
    if let failure = started.first(where: { $0.error != nil })?.error { throw failure }
    return running
}

/// Makes sessions the way `ccorc launch` leaves them, without a launch process per session: the
/// row a launch claims (`SessionManager.launchRecord`), each agent's labelled volumes
/// (`agentVolumes`) and its container (`containerSpec`, mounting them), committed `ready` with the
/// container IDs. The first `runningCount` then have their containers started and a tmux session
/// with one window per agent (running `sleep` rather than `ccdk shell`); the others are as
/// `ccorc stop` leaves a session: containers stopped, no tmux session (an agent's window ends with
/// its container).
/// - Returns: the names of the running sessions.
func plantLaunchedSessions(
    _ manager: SessionManager, names: [SessionName], runningCount: Int
) async throws -> [SessionName] {
    let engine = manager.engine
    let options = {
        var options = LaunchOptions()
        options.image = "ccorc-busybox:latest"
        options.agentCommand = "sh"
        options.networkMode = "none"
        return options
    }()
    let image = try await manager.agentImage(options.image, stateDirectory: nil, mounts: [])
    let launching = ProcessIdentity.current
    let created = await forEachConcurrently(names, width: 16) { name in
        try BenchResources.shared.checkpoint()
        var record = SessionManager.launchRecord(name, options: options, image: image, launchedBy: launching)
        try manager.registry.claim(record)
        for index in record.agents.indices {
            let agent = record.agents[index]
            for volume in manager.agentVolumes(record, agent) {
                _ = try await engine.createVolume(name: volume.name, labels: volume.labels)
            }
            record.agents[index].containerID = try await engine.createContainer(
                manager.containerSpec(record, agent, mounts: [], imageID: image.id))
        }
        record.status = .ready
        record.config = SessionManager.launchConfig(image, launchedBy: nil)
        try manager.registry.commit(record)
    }
    if let failure = created.first(where: { $0.error != nil })?.error { throw failure }
    let running = Array(names.prefix(runningCount))
    let roles = options.roles
    let started = await forEachConcurrently(
        running.flatMap { name in roles.map { SessionManager.containerName(name, $0) } }, width: 16
    ) {
        try BenchResources.shared.checkpoint()
        try await engine.startContainer($0)
    }
    if let failure = started.first(where: { $0.error != nil })?.error { throw failure }
    for name in running {
        try await newBenchSession(
            manager,
            TmuxNewSessionOptions(name: name.rawValue, windowName: roles[0].rawValue, command: ["sleep", "3600"]))
        for role in roles.dropFirst() {
            _ = try await manager.tmux.newWindow(
                session: name.rawValue, TmuxNewWindowOptions(name: role.rawValue, command: ["sleep", "3600"]))
        }
    }
    return running
}

/// What is left of the sessions named `prefix…`: labelled containers and volumes (by their
/// `ccorc.session` label), tmux sessions and registry rows.
struct SessionLeftovers {
    var containers: [ContainerSummary]
    var volumes: [Volume]
    var tmuxSessions: [String]
    var rows: Set<String>

    var isEmpty: Bool { containers.isEmpty && volumes.isEmpty && tmuxSessions.isEmpty && rows.isEmpty }

    static func of(_ manager: SessionManager, prefix: String) async throws -> SessionLeftovers {
        func ours(_ labels: [String: String]) -> Bool { labels[OwnershipLabels.session]?.hasPrefix(prefix) == true }
        let containers = try await manager.engine.listContainers(
            all: true, filters: ["label": [OwnershipLabels.session]]
        ).filter { ours($0.labels) }
        let volumes = try await manager.engine.listVolumes(filters: ["label": [OwnershipLabels.session]]).filter {
            ours($0.labels)
        }
        let tmuxSessions: [String]
        do {
            tmuxSessions = try await manager.tmux.listSessions().map(\.name).filter { $0.hasPrefix(prefix) }
        } catch let error as TmuxError where error.code == .serverNotRunning {
            tmuxSessions = []
        }
        let rows = Set(try manager.registry.allSessions().map(\.name.rawValue).filter { $0.hasPrefix(prefix) })
        return SessionLeftovers(containers: containers, volumes: volumes, tmuxSessions: tmuxSessions, rows: rows)
    }

    /// Containers, volumes and tmux sessions whose session has no registry row: what an
    /// interrupted cleanup must never leave.
    var untracked: [String] {
        containers.filter { !rows.contains($0.labels[OwnershipLabels.session]!) }.map { "container \($0.name)" }
            + volumes.filter { !rows.contains($0.labels[OwnershipLabels.session]!) }.map { "volume \($0.name)" }
            + tmuxSessions.filter { !rows.contains($0) }.map { "tmux session \($0)" }
    }

    var summary: String {
        "\(rows.count) rows, \(containers.count) containers, \(volumes.count) volumes, \(tmuxSessions.count) tmux sessions"
    }
}

/// Removes every container a benchmark run made (labelled with `tag`, or a session named `tag-…`) and
/// every volume of such a session.
func removeBenchLeftovers(_ engine: EngineClient, tag: String) async {
    let planted = (try? await engine.listContainers(all: true, filters: ["label": ["ccorc.bench=\(tag)"]])) ?? []
    let launched = (try? await engine.listContainers(all: true, filters: ["label": [OwnershipLabels.session]])) ?? []
    let ours = Set(
        planted.map(\.id)
            + launched.filter { $0.labels[OwnershipLabels.session]?.hasPrefix(tag + "-") == true }.map(\.id))
    _ = await forEachConcurrently(Array(ours), width: 16) { try await engine.removeContainer($0, force: true) }
    let volumes = (try? await engine.listVolumes(filters: ["label": [OwnershipLabels.session]])) ?? []
    _ = await forEachConcurrently(
        volumes.filter { $0.labels[OwnershipLabels.session]?.hasPrefix(tag + "-") == true }.map(\.name)
    ) {
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
