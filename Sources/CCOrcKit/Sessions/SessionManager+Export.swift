import FoundationEssentials
import Synchronization

/// The export file: `{"format": "ccorc-export", "schemaVersion": 1, "exportedAt", "secretsMasked",
/// "sessions": [SESSION...]}`, where a SESSION holds the registry row exactly (`registry`), each
/// agent's container as the engine has it (`containers`: config and live state), the state
/// volumes (`volumes`) and the tmux session at export time (`tmux`).
public enum SessionExportFormat {
    /// The value of `format` that marks a file as ours.
    public static let format = "ccorc-export"
    /// The schema this ccorc writes and reads.
    public static let schemaVersion: Int64 = 1
    /// What a masked value, or the masked part of one, is replaced with (`SecretMasking.marker`).
    public static let maskedValue = SecretMasking.marker
}

extension SessionManager {
    // MARK: - Export

    /// The export of `names` (every session for nil): each registry row with its containers as
    /// the engine has them, its volumes and its live state. One registry read, one engine list
    /// call each for containers and volumes, one inspect per existing container.
    public func export(_ names: [SessionName]?, includeSecrets: Bool = false) async throws -> [JSONValue] {
        try await exportWithDamage(names, includeSecrets: includeSecrets).sessions
    }

    /// `export(_:includeSecrets:)`, and the damaged registry rows left out of an export of every
    /// session (always empty for named sessions: a damaged named row is an error).
    public func exportWithDamage(
        _ names: [SessionName]?, includeSecrets: Bool = false
    ) async throws -> (sessions: [JSONValue], damaged: [DamagedRegistryRow]) {
        var records: [SessionRecord]
        var damaged: [DamagedRegistryRow] = []
        if let names {
            records = []
            for name in names {
                guard let record = try registry.session(named: name) else {
                    throw SessionError.sessionNotFound(name)
                }
                records.append(record)
            }
        } else {
            let rows = try registry.rows()
            records = rows.sessions
            damaged = rows.damaged
        }
        let statuses = try await status(of: records)
        for status in statuses { try await requireEngine(of: status) }
        let held = await holdings(
            of: Set(statuses.compactMap(\.record.engine)).sorted(), records: [], volumes: true,
            filters: { _ in SessionReconciliation.sessionLabelFilter })
        if let (name, reason) = held.unreachable.first {
            throw EngineError(.unreachable, "engine \(name) unreachable: \(reason)")
        }
        var volumes: [String: Volume] = [:]
        for volume in held.volumes { volumes[volume.name] = volume }
        let details = Mutex<[String: ContainerDetails]>([:])
        let containers = statuses.flatMap { status in
            status.agents.compactMap { agent in agent.container.map { ($0.id, status.record.engine) } }
        }
        let failures = await forEachConcurrently(containers, width: 32) { id, engineName in
            let detail = try await self.engines.client(named: engineName).inspectContainer(id)
            details.withLock { $0[id] = detail }
        }
        if let failure = failures.first(where: { $0.error != nil && ($0.error as? EngineError)?.code != .notFound }) {
            throw failure.error!
        }
        let inspected = details.withLock { $0 }
        let sessions = statuses.map { status in
            SessionExportFormat.session(status, details: inspected, volumes: volumes, includeSecrets: includeSecrets)
        }
        return (sessions, damaged)
    }
}
