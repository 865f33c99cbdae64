// Which engine a new session goes to. Pure: the caller reads each engine's memory and the
// registry's reservations and hands them in.

/// One candidate engine as placement sees it.
public struct EngineCapacity: Sendable, Equatable {
    /// The engine's docker context name.
    public var name: String
    /// The memory the engine's host has (`GET /info`'s `MemTotal`), in bytes.
    public var memoryBytes: Int64
    /// The memory limits of ccorc's containers already there (running or stopped), in bytes.
    public var reservedBytes: Int64
    /// ccorc's sessions already there.
    public var sessions: Int

    /// A candidate; see the properties.
    public init(name: String, memoryBytes: Int64, reservedBytes: Int64, sessions: Int) {
        self.name = name
        self.memoryBytes = memoryBytes
        self.reservedBytes = reservedBytes
        self.sessions = sessions
    }

    /// The memory left once every limit already there is taken.
    public var freeBytes: Int64 { memoryBytes - reservedBytes }
}

/// Places sessions on the engine with the most memory left after the limits already there;
/// ties go to the engine with fewer sessions, then to the one named first.
public enum EnginePlacement {
    /// The engine for each of `count` new sessions, each needing `needBytes` of limits (its
    /// per-container limit times its agents; 0 for unlimited containers), placed one after the
    /// other so that each sees the ones before it.
    /// - Precondition: `candidates` is not empty.
    public static func place(count: Int, needBytes: Int64, on candidates: [EngineCapacity]) -> [String] {
        precondition(!candidates.isEmpty, "placement needs at least one engine")
        var engines = candidates
        var placed: [String] = []
        placed.reserveCapacity(count)
        for _ in 0..<count {
            var best = 0
            for index in engines.indices.dropFirst() {
                let candidate = engines[index]
                let chosen = engines[best]
                if candidate.freeBytes > chosen.freeBytes
                    || (candidate.freeBytes == chosen.freeBytes && candidate.sessions < chosen.sessions)
                {
                    best = index
                }
            }
            engines[best].reservedBytes += needBytes
            engines[best].sessions += 1
            placed.append(engines[best].name)
        }
        return placed
    }

    /// What the registered sessions hold on each engine: their sessions and their containers'
    /// memory limits (limit times agents), by engine name (`name(record)`).
    public static func reservations(
        _ records: [SessionRecord], engineName: (SessionRecord) -> String
    ) -> [String: (sessions: Int, reservedBytes: Int64)] {
        var result: [String: (sessions: Int, reservedBytes: Int64)] = [:]
        for record in records {
            var entry = result[engineName(record), default: (0, 0)]
            entry.sessions += 1
            entry.reservedBytes += (record.memoryBytes ?? 0) * Int64(record.agents.count)
            result[engineName(record)] = entry
        }
        return result
    }
}
