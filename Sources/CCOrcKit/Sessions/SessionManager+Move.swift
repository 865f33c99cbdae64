import FoundationEssentials
import Synchronization

/// What `SessionManager.move` did.
public struct MoveReport: Sendable {
    /// The session as registered now, on the target engine.
    public var record: SessionRecord
    /// The engine it came from and the one it is on now.
    public var source: String
    public var target: String
    /// Whether the image had to be copied to the target.
    public var copiedImage: Bool
    /// Each volume copied, with what was relayed.
    public var volumes: [VolumeCopyReport]
    /// What could not be removed from the source after the move committed (its containers and
    /// volumes are orphans there: `ccorc cleanup --orphans` removes them).
    public var leftOnSource: [String]
}

/// A move that failed before it committed: the source is intact, the session still registered
/// there; `leftOnTarget` names what could not be removed from the target again.
public struct MoveError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public var reason: String
    /// Containers and volumes the move made on the target and could not remove.
    public var leftOnTarget: [String]
    /// Whether the move was interrupted (Ctrl-C) rather than failed.
    public var interrupted: Bool

    /// One line: the failure, that the source is intact, and what is left on the target.
    public var description: String {
        let left =
            leftOnTarget.isEmpty
            ? "nothing was left on the target"
            : "left on the target: \(leftOnTarget.joined(separator: ", ")) (remove with `ccorc cleanup --orphans`)"
        return "\(reason); the session is intact where it was, and \(left)"
    }
}

extension SessionManager {
    /// Moves a session to the engine `target` names (a docker context): stops it, copies each of
    /// its volumes' files through the archive endpoints (helper containers on each side that are
    /// never started), copies its image there when the target lacks it, recreates its containers
    /// from the registry, compares every volume on both sides, and only then registers the
    /// session on the target and removes its containers and volumes from the source. The
    /// session is left stopped; `resume` brings it back on the target.
    ///
    /// Until the registry names the target, nothing on the source is changed but the stop: a
    /// failure, an interruption (`control`) or a killed process leaves the session whole where
    /// it was, and the move removes what it made on the target (what it cannot remove is named
    /// in the `MoveError`, and is an orphan there for `cleanup --orphans`).
    /// - Throws: `SessionError.sessionNotFound`; `SessionError(.invalidArgument)` for a session
    ///   already on `target`, one imported from the earlier tool, or a launch not finished;
    ///   `MoveError` for a failure after the stop.
    public func move(
        _ name: SessionName, to target: String, control: StopControl? = nil,
        progress: (@Sendable (String) -> Void)? = nil
    ) async throws -> MoveReport {
        guard let found = try registry.session(named: name) else { throw SessionError.sessionNotFound(name) }
        let record = placedOnEngines([found])[0]
        let source = record.engine!
        guard source != target else {
            throw SessionError(.invalidArgument, "session \(name) is already on engine \(target)")
        }
        guard !record.isLegacy else {
            throw SessionError(
                .invalidArgument, "session \(name) was imported from the earlier tool; its containers cannot be moved")
        }
        guard record.status == .ready else {
            throw SessionError(.invalidArgument, "session \(name) has not finished launching; it cannot be moved")
        }
        let from = try engines.client(named: source)
        let to = try engines.client(named: target)
        let status = try await self.status(of: [record])[0]
        try await requireEngine(of: status)
        guard status.missingAgents.isEmpty else {
            throw SessionError(
                .containersMissing,
                "session \(name) has missing containers (\(status.missingAgents.map(\.record.containerName).joined(separator: ", "))); repair it with `ccorc cleanup --fix-broken` first"
            )
        }
        let volumes = record.agents.flatMap { agentVolumes(record, $0) }
        // The target must not hold anything of these names: the move would take it for its own.
        let taken = try await names(
            on: to, containers: record.agents.map(\.containerName), volumes: volumes.map(\.name))
        guard taken.isEmpty else {
            throw SessionError(
                .alreadyExists,
                "engine \(target) already has \(taken.joined(separator: ", ")); remove them there first")
        }
        try Self.checkStopped(control, before: "stopping \(name)")
        progress?("stopping \(name)")
        if let failure = try await stop([name]).first?.error { throw failure }

        let made = Mutex<(containers: [String], volumes: [String])>(([], []))
        let moved: SessionRecord
        let reports: [VolumeCopyReport]
        let copiedImage: Bool
        do {
            progress?("copying image \(record.image) to \(target) unless it is there")
            let image = Mutex<(copied: Bool, id: String)>((false, ""))
            try await step("copying the image", at: .moveImage, stop: control) {
                let copied = try await EngineTransfer.ensureImage(record.image, from: from, on: to)
                guard let id = try await to.imageID(record.image) else {
                    throw EngineError(.notFound, "image \(record.image) is not on engine \(target) after the copy")
                }
                image.withLock { $0 = (copied, id) }
            }
            let (copied, imageID) = image.withLock { $0 }
            copiedImage = copied
            let copies = Mutex<[VolumeCopyReport]>([])
            try await step("copying the volumes", at: .moveVolumes, stop: control) {
                for volume in volumes {
                    try Self.checkStopped(control, before: "copying volume \(volume.name)")
                    progress?("copying volume \(volume.name)")
                    // Created here with the labels a launch gives it, so that what a killed move
                    // leaves is an orphan `cleanup --orphans` finds.
                    _ = try await to.createVolume(name: volume.name, labels: volume.labels)
                    made.withLock { $0.volumes.append(volume.name) }
                    // The helpers are never run: any image both engines have will do, and the
                    // session's, by name, is on both now (its ID may differ between them).
                    let report = try await EngineTransfer.copyVolume(
                        volume.name, from: from, to: to, helperImage: record.image)
                    copies.withLock { $0.append(report) }
                }
            }
            reports = copies.withLock { $0 }
            progress?("creating the containers on \(target)")
            var placed = record
            placed.engine = target
            let mounts = try record.mounts.map(MountSpec.init(parsing:))
            let ids = Mutex<[String: String]>([:])
            try await step("creating the containers", at: .moveContainers, stop: control) {
                for agent in placed.agents {
                    let id = try await to.createContainer(
                        self.containerSpec(placed, agent, mounts: mounts, imageID: imageID))
                    made.withLock { $0.containers.append(id) }
                    ids.withLock { $0[agent.containerName] = id }
                }
            }
            let created = ids.withLock { $0 }
            for index in placed.agents.indices {
                placed.agents[index].containerID = created[placed.agents[index].containerName]
            }
            progress?("comparing the volumes on both engines")
            try await step("comparing the volumes", at: .moveVerify, stop: control) {
                for volume in volumes {
                    let comparison = try await EngineTransfer.verifyVolumeCopy(
                        volume.name, from: from, to: to, helperImage: record.image)
                    guard comparison.matches else {
                        throw EngineError(
                            .malformedReply,
                            "volume \(volume.name) differs on \(target) after the copy (\(comparison.target.fileCount) files against \(comparison.source.fileCount))"
                        )
                    }
                }
            }
            placed.updatedAt = Date()
            let committed = placed
            try step("registering the session on \(target)", at: .moveCommit, stop: control) {
                try self.registry.commit(committed)
            }
            moved = placed
        } catch {
            let (containers, createdVolumes) = made.withLock { ($0.containers, $0.volumes) }
            var left: [String] = []
            for id in containers {
                do { try await to.removeContainer(id, force: true, volumes: true) } catch {
                    left.append("container \(id.prefix(12))")
                }
            }
            for volume in createdVolumes {
                do { try await to.removeVolume(volume, force: true) } catch { left.append("volume \(volume)") }
            }
            let interrupted = (error as? SessionError)?.code == .interrupted
            throw MoveError(
                reason: "move \(name) to \(target): \(error)", leftOnTarget: left, interrupted: interrupted)
        }

        // Committed: the source's copies are orphans there now, removed here or by a cleanup.
        progress?("removing the session from \(source)")
        var left: [String] = []
        do {
            try await step("removing the session from \(source)", at: .moveRemoveSource) {
                for agent in status.agents {
                    guard let container = agent.container else { continue }
                    do { try await from.removeContainer(container.id, force: true, volumes: true) } catch {
                        left.append("container \(agent.record.containerName) (\(error))")
                    }
                }
                for volume in volumes {
                    do { try await from.removeVolume(volume.name, force: true) } catch {
                        left.append("volume \(volume.name) (\(error))")
                    }
                }
            }
        } catch {
            left.append("\(error)")
        }
        return MoveReport(
            record: moved, source: source, target: target, copiedImage: copiedImage, volumes: reports,
            leftOnSource: left)
    }

    /// Which of `containers` and `volumes` (by name) exist on `engine`.
    private func names(on engine: EngineClient, containers: [String], volumes: [String]) async throws -> [String] {
        async let listedContainers = engine.listContainers(all: true, brief: true)
        async let listedVolumes = engine.listVolumes()
        let containerNames = Set(try await listedContainers.map(\.name))
        let volumeNames = Set(try await listedVolumes.map(\.name))
        return containers.filter(containerNames.contains).map { "container \($0)" }
            + volumes.filter(volumeNames.contains).map { "volume \($0)" }
    }
}
