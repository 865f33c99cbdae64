import FoundationEssentials
import Synchronization

extension SessionManager {
    /// Creates a session: claims the name, creates and starts one container per agent (each with
    /// its state volume), opens the tmux session with one window per agent, then commits the
    /// registry entry. On any failure everything made so far is removed again. The session goes
    /// to `options.engine`, else to the engine `placement` chooses among `options.engines`, else
    /// to the current engine.
    ///
    /// - Parameter control: stopped (Ctrl-C), the launch stops at its next step, undoes what it
    ///   made and throws `SessionError(.interrupted)`.
    public func launch(
        _ name: SessionName, options: LaunchOptions, control: StopControl? = nil
    ) async throws -> SessionRecord {
        try options.validate()
        let engineName = try await placement(of: 1, options: options)[0]
        let engine = try engines.client(named: engineName)
        let mounts = try options.mounts.map(MountSpec.init(parsing:))
        let image = try await agentImage(
            options.image, stateDirectory: options.stateDirectory, mounts: mounts, on: engine)
        return try await launch(name, options: options, image: image, on: engineName, control: control)
    }

    /// `launch(_:options:control:)` with the engine chosen and the image already looked up there,
    /// as a bulk launch does once per engine.
    func launch(
        _ name: SessionName, options: LaunchOptions, image: AgentImage, on engineName: String,
        control: StopControl? = nil
    ) async throws -> SessionRecord {
        let engine = try engines.client(named: engineName)
        let mounts = try options.mounts.map(MountSpec.init(parsing:))
        var record = Self.launchRecord(name, options: options, image: image, launchedBy: ProcessIdentity.current)
        record.engine = engineName
        let agents = record.agents
        if control?.isStopped == true {
            throw SessionError(.interrupted, "launch \(name): interrupted; nothing was made")
        }
        do {
            try registry.claim(record)
        } catch {
            // `claim` throws RegistryError only.
            if error.code == .alreadyExists {
                let existing = try? registry.session(named: name)
                if let existing, existing.status == .launching, !existing.launchIsUnderWay() {
                    throw SessionError(
                        .alreadyExists,
                        "session \(name) already exists: its launch died before it finished; remove it with `ccorc cleanup --remove \(name)`, then launch again"
                    )
                }
                throw SessionError(.alreadyExists, "session \(name) already exists")
            }
            throw error
        }

        // What exists so far, for the rollback: container IDs by name, the volumes this launch
        // created (a volume kept by `cleanup --keep-volumes` is reused, and stays), and whether
        // the tmux session was opened (a later window can still fail).
        let made = Mutex<(containers: [String: String], volumes: [String], tmux: Bool)>(([:], [], false))
        do {
            if !options.force, try await tmux.hasSession(name.rawValue) {
                throw SessionError(
                    .tmuxConflict,
                    "tmux session \(name) already exists: attach with `tmux attach -t \(name)`, or pass --force to replace it"
                )
            }
            try step("preparing tmux", at: .launchPrepareTmux, stop: control) {
                try self.tmux.server.prepareSocketDirectory()
            }
            let claimed = record
            try await step("creating the volumes", at: .launchVolumes, stop: control) {
                try await self.fanOut(agents) { agent in
                    for volume in self.agentVolumes(claimed, agent)
                    where try await self.createVolumeIfAbsent(volume.name, labels: volume.labels, on: engine) {
                        made.withLock { $0.volumes.append(volume.name) }
                    }
                }
            }
            try await step("creating the containers", at: .launchContainers, stop: control) {
                try await self.fanOut(agents) { agent in
                    let id = try await engine.createContainer(
                        self.containerSpec(claimed, agent, mounts: mounts, imageID: image.id))
                    made.withLock { $0.containers[agent.containerName] = id }
                }
            }
            try await step("starting the containers", at: .launchStart, stop: control) {
                try await self.fanOut(agents) { try await engine.startContainer($0.containerName) }
            }
            let ids = made.withLock { $0.containers }
            for index in record.agents.indices {
                record.agents[index].containerID = ids[record.agents[index].containerName]
            }
            let started = record
            try await step("creating the tmux session", at: .launchTmuxSession, stop: control) {
                if options.force, try await self.tmux.hasSession(name.rawValue) {
                    try await self.tmux.killSession(name.rawValue)
                }
                try await self.openTmux(started, windowFault: .launchTmuxWindow) { made.withLock { $0.tmux = true } }
            }
            record.status = .ready
            record.config = Self.launchConfig(image, launchedBy: nil)
            let ready = record
            try step("committing the registry entry", at: .launchCommit) { try self.registry.commit(ready) }
            return record
        } catch {
            let (createdContainers, createdVolumes, createdTmux) = made.withLock {
                (Array($0.containers.values), $0.volumes, $0.tmux)
            }
            // tmux first: its windows run shells into the containers about to go.
            if createdTmux { try? await tmux.killSession(name.rawValue) }
            _ = await forEachConcurrently(createdContainers) {
                try await engine.removeContainer($0, force: true, volumes: true)
            }
            _ = await forEachConcurrently(createdVolumes) { try await engine.removeVolume($0, force: true) }
            _ = try? registry.release(name)
            if let error = error as? SessionError {
                throw SessionError(
                    error.code,
                    "launch \(name): \(error.message)\(error.code == .interrupted ? "; what it made was removed" : "")")
            }
            throw error
        }
    }

    /// The registry row a launch of `name` claims: one agent per role, each with its container,
    /// state volume and tmux window, status `launching`, its settings naming `launchedBy` (see
    /// `launchConfig`). Launch commits it as `ready` with `launchConfig(image, launchedBy: nil)`.
    public static func launchRecord(
        _ name: SessionName, options: LaunchOptions, image: AgentImage, launchedBy: ProcessIdentity?, now: Date = Date()
    ) -> SessionRecord {
        let agents = options.roles.enumerated().map { index, role in
            AgentRecord(
                role: role, containerName: SessionManager.containerName(name, role), containerID: nil,
                stateVolume: SessionManager.volumeName(name, role), model: nil, tmuxWindow: role.rawValue,
                position: index)
        }
        return SessionRecord(
            name: name, tmuxSession: name.rawValue, createdAt: now, updatedAt: now, lastResumedAt: nil,
            image: options.image, agentCommand: options.agentCommand, memoryBytes: options.memoryBytes,
            nanoCPUs: options.nanoCPUs, networkMode: options.networkMode, mounts: options.mounts,
            environment: options.environment, workingDirectory: options.workingDirectory,
            config: launchConfig(image, launchedBy: launchedBy), status: .launching, agents: agents)
    }

    /// What a launch records of its image in the row's settings: the state directory and the
    /// image `VOLUME` paths that got named volumes.
    /// While the launch runs, `launchedBy` names its process, so that another command can tell a
    /// launch under way from one that died (see `SessionRecord.launchIsUnderWay`).
    public static func launchConfig(_ image: AgentImage, launchedBy: ProcessIdentity? = nil) -> JSONValue {
        var config: [String: JSONValue] = ["stateDirectory": .string(image.stateDirectory)]
        if let launchedBy { config["launchedBy"] = launchedBy.jsonValue }
        if !image.volumeTargets.isEmpty { config["imageVolumes"] = JSONValue(strings: image.volumeTargets) }
        return .object(config)
    }

    /// Creates a volume unless one of that name exists; the engine's create would return an
    /// existing one as if it had made it.
    /// - Returns: whether this call created it.
    func createVolumeIfAbsent(_ name: String, labels: [String: String], on engine: EngineClient) async throws -> Bool {
        do {
            _ = try await engine.inspectVolume(name)
            return false
        } catch let error as EngineError where error.code == .notFound {
            _ = try await engine.createVolume(name: name, labels: labels)
            return true
        }
    }

    /// The container of one agent, as recorded: also what `cleanup --fix-broken` recreates.
    /// - Parameter imageID: the ID `record.image` resolves to (see `EngineClient.imageID`). A
    ///   container created from an ID is listed without the engine looking its image up again,
    ///   which is most of what a list call costs the engine (3,000 containers: 65 ms against
    ///   200 ms from a tag); the name stays in the registry and the `ccorc.image` label. Nil
    ///   creates it from `record.image` as given.
    public func containerSpec(
        _ record: SessionRecord, _ agent: AgentRecord, mounts: [MountSpec], imageID: String? = nil
    ) -> ContainerSpec {
        let stateDirectory = record.stateDirectory
        var spec = ContainerSpec(image: imageID ?? record.image, name: agent.containerName)
        // A keep-alive that ends promptly on SIGTERM, so that stopping costs no grace period.
        spec.command = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
        spec.environment = record.environment + ["CCORC_SESSION=\(record.name)", "CCORC_ROLE=\(agent.role)"]
        spec.labels = AgentLabels.labels(record, agent)
        spec.workingDirectory = record.workingDirectory
        spec.memory = record.memoryBytes
        spec.nanoCPUs = record.nanoCPUs
        spec.networkMode = record.networkMode
        spec.mounts =
            [MountSpec(kind: .volume, source: agent.stateVolume, target: stateDirectory)]
            + imageVolumes(record, agent).map { MountSpec(kind: .volume, source: $0.name, target: $0.target) } + mounts
        spec.tty = true
        spec.openStdin = true
        return spec
    }

    /// Launches several sessions concurrently (at most `width` at once) with the same options,
    /// each on the engine `placement` gives it.
    /// - Returns: each name with its error, nil when it launched; in the order given.
    /// - Throws: what `LaunchOptions.validate()` throws, before anything is made.
    /// - Parameter control: stopped (Ctrl-C), every launch stops at its next step and undoes what
    ///   it made; those not begun yet are not begun.
    public func launch(
        _ names: [SessionName], options: LaunchOptions, width: Int = 8, control: StopControl? = nil
    ) async throws -> [(name: SessionName, error: Error?)] {
        try options.validate()
        let placed: [String]
        var found: [String: Result<AgentImage, Error>] = [:]
        do {
            placed = try await placement(of: names.count, options: options)
            let mounts = try options.mounts.map(MountSpec.init(parsing:))
            for engineName in Set(placed) {
                let engine = try engines.client(named: engineName)
                do {
                    found[engineName] = .success(
                        try await agentImage(
                            options.image, stateDirectory: options.stateDirectory, mounts: mounts, on: engine))
                } catch {
                    found[engineName] = .failure(error)
                }
            }
        } catch {
            return names.map { ($0, error) }
        }
        let images = found
        let launches = Array(zip(names, placed))
        let results = await forEachConcurrently(launches, width: width) { name, engineName in
            let image = try images[engineName]!.get()
            _ = try await self.launch(name, options: options, image: image, on: engineName, control: control)
        }
        return results.map { (name: $0.item.0, error: $0.error) }
    }

    /// The engine for each of `count` sessions launched with `options`: `options.engine` for
    /// all; else, with several `options.engines`, the one with the most memory left after the
    /// limits of the sessions the registry has there (see `EnginePlacement`), each session
    /// counting for the ones after it; else the one engine named, or the current engine.
    /// Engines that do not answer are left out.
    /// - Throws: `EngineError` for an engine name no context has, or when no candidate answers.
    public func placement(of count: Int, options: LaunchOptions) async throws -> [String] {
        let candidates =
            options.engine.map { [$0] } ?? (options.engines.isEmpty ? [engines.currentName] : options.engines)
        let clients = try candidates.map { try engines.client(named: $0) }
        if candidates.count == 1 { return Array(repeating: candidates[0], count: count) }
        let memory = await mapConcurrently(Array(zip(candidates, clients)), width: candidates.count) {
            try await $0.1.info().memoryBytes
        }
        let reservations = EnginePlacement.reservations(try registry.rows().sessions) { self.engines.name(of: $0) }
        var capacities: [EngineCapacity] = []
        var failures: [String] = []
        for (candidate, result) in memory {
            let name = candidate.0
            switch result {
            case .failure(let error):
                failures.append("\(name): \(error)")
            case .success(let memoryBytes):
                let held = reservations[name] ?? (0, 0)
                capacities.append(
                    EngineCapacity(
                        name: name, memoryBytes: memoryBytes, reservedBytes: held.reservedBytes,
                        sessions: held.sessions))
            }
        }
        guard !capacities.isEmpty else {
            throw EngineError(.unreachable, "no engine to launch on answers (\(failures.joined(separator: "; ")))")
        }
        let need = (options.memoryBytes ?? 0) * Int64(options.roles.count)
        return EnginePlacement.place(count: count, needBytes: need, on: capacities)
    }
}
