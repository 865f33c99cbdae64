// Reading several engines at once: each engine sessions live on is listed concurrently, and one
// that does not answer is reported, never waited on by the others.

/// What the engines hold: their containers and volumes, each tagged with its engine's name, and
/// the engines that did not answer.
struct EngineHoldings: Sendable {
    /// The containers, from every engine that answered.
    var containers: [ContainerSummary] = []
    /// The volumes, when asked for, from every engine that answered.
    var volumes: [Volume] = []
    /// The engines that did not answer, with the reason.
    var unreachable: [String: String] = [:]
    /// The errors behind `unreachable`.
    var failures: [String: any Error] = [:]
    /// The engines that answered.
    var answered: Set<String> = []

    /// Adds what `other` holds.
    mutating func merge(_ other: EngineHoldings) {
        containers += other.containers
        volumes += other.volumes
        unreachable.merge(other.unreachable) { first, _ in first }
        failures.merge(other.failures) { first, _ in first }
        answered.formUnion(other.answered)
    }

    /// Throws the error of `preferred` (else of any engine) when no engine answered: with
    /// nothing listed, the command fails as it would with one engine.
    func throwIfNoneAnswered(preferring preferred: String) throws {
        guard answered.isEmpty, !failures.isEmpty else { return }
        throw failures[preferred] ?? failures[failures.keys.sorted()[0]]!
    }
}

extension SessionManager {
    /// `records` with each one's engine named (the current engine for rows that name none), so
    /// that containers listed from several engines pair with the right rows.
    func placedOnEngines(_ records: [SessionRecord]) -> [SessionRecord] {
        records.map { record in
            var record = record
            record.engine = engines.name(of: record)
            return record
        }
    }

    /// The engines `records` live on, plus the current engine and `extra`, sorted.
    func engineNames(of records: [SessionRecord], extra: [String] = []) -> [String] {
        Set(records.map { engines.name(of: $0) } + [engines.currentName] + extra).sorted()
    }

    /// Lists every engine of `names` concurrently: the containers `records` on it may own (see
    /// `SessionReconciliation.containerFilters`), and the labelled volumes when `volumes` is set.
    /// An engine that fails (unreachable, a malformed reply, an unknown context) is reported in
    /// `unreachable` and the others are still listed.
    /// - Parameters:
    ///   - filters: the list filters for the records on one engine.
    ///   - containers: whether to list containers (false: volumes only).
    func holdings(
        of names: [String], records: [SessionRecord], containers listsContainers: Bool = true, volumes: Bool = false,
        labels: Set<String>? = nil,
        brief: Bool = false, size: Bool = false,
        filters: @escaping @Sendable ([SessionRecord]) -> [String: [String]] = {
            SessionReconciliation.containerFilters(for: $0)
        }
    ) async -> EngineHoldings {
        guard !names.isEmpty else { return EngineHoldings() }
        let listed = await mapConcurrently(names, width: max(1, names.count)) { name in
            let engine = try self.engines.client(named: name)
            let own = records.filter { self.engines.name(of: $0) == name }
            async let containers =
                listsContainers
                ? engine.listContainers(all: true, filters: filters(own), size: size, labels: labels, brief: brief) : []
            async let volumeList =
                volumes ? engine.listVolumes(filters: SessionReconciliation.sessionLabelFilter) : []
            return (try await containers, try await volumeList)
        }
        var holdings = EngineHoldings()
        for (name, result) in listed {
            switch result {
            case .success(let (containers, volumes)):
                holdings.answered.insert(name)
                holdings.containers += containers.map { container in
                    var container = container
                    container.engine = name
                    return container
                }
                holdings.volumes += volumes.map { volume in
                    var volume = volume
                    volume.engine = name
                    return volume
                }
            case .failure(let error):
                holdings.unreachable[name] = Self.engineFailure(error)
                holdings.failures[name] = error
            }
        }
        return holdings
    }

    /// Throws why the engine of `status` did not answer, as that engine's own error (so that an
    /// unreachable socket, a refused certificate or an unknown context each reads as itself),
    /// naming the engine; returns when it answered.
    func requireEngine(of status: SessionStatus) async throws {
        guard let problem = status.engineProblem else { return }
        let name = engines.name(of: status.record)
        do {
            try await engines.client(named: name).ping()
        } catch let error as EngineError {
            throw error.within("engine \(name)")
        }
        // It answers now: the listing's reason still stands for the state read.
        throw EngineError(.unreachable, problem)
    }

    /// The reason an engine could not be listed, in one line.
    static func engineFailure(_ error: Error) -> String {
        if let error = error as? EngineError { return error.message }
        return "\(error)"
    }
}

/// One engine as `ccorc engines` shows it.
public struct EngineOverview: Sendable {
    /// The docker context's name.
    public var name: String
    /// Its endpoint, as the context writes it.
    public var host: String
    /// Whether it is the current engine.
    public var isCurrent: Bool
    /// Why it could not be asked; nil when it answered.
    public var problem: String?
    /// The API version ccorc speaks with it.
    public var apiVersion: String?
    /// The engine's release.
    public var serverVersion: String?
    /// Its host's CPUs and memory in bytes.
    public var cpus: Int?
    public var memoryBytes: Int64?
    /// ccorc's sessions registered there.
    public var sessions: Int
    /// The memory limits of their containers (limit times agents), in bytes.
    public var reservedMemoryBytes: Int64
    /// Their containers' CPU limits, in billionths of a CPU.
    public var reservedNanoCPUs: Int64

    /// `{"name","host","current","reachable","error","apiVersion","serverVersion","cpus","memory",
    /// "sessions","reservedMemory","reservedNanoCpus"}`.
    public var jsonValue: JSONValue {
        [
            "name": .string(name), "host": .string(host), "current": .bool(isCurrent),
            "reachable": .bool(problem == nil), "error": problem.map { .string($0) } ?? .null,
            "apiVersion": apiVersion.map { .string($0) } ?? .null,
            "serverVersion": serverVersion.map { .string($0) } ?? .null,
            "cpus": cpus.map { .int(Int64($0)) } ?? .null, "memory": JSONValue(memoryBytes),
            "sessions": .int(Int64(sessions)), "reservedMemory": .int(reservedMemoryBytes),
            "reservedNanoCpus": .int(reservedNanoCPUs),
        ]
    }
}

extension SessionManager {
    /// Every docker context, and every engine name the registry uses that no context has, with
    /// whether it answers (all asked at once), its API version,
    /// CPUs and memory, and ccorc's sessions and reserved limits there.
    public func engineOverview() async throws -> [EngineOverview] {
        let contexts = try engines.contexts()
        let records = placedOnEngines(try registry.rows().sessions)
        var hosts: [(name: String, host: String)] = contexts.map { ($0.name, $0.host) }
        if engines.currentName == "default", let index = hosts.firstIndex(where: { $0.name == "default" }) {
            hosts[index].host = engine.host.description
        }
        for name in Set(records.compactMap(\.engine)).subtracting(hosts.map(\.name)).sorted() {
            hosts.append((name, "?"))
        }
        let answers = await mapConcurrently(hosts, width: max(1, hosts.count)) { name, _ in
            let client = try self.engines.client(named: name)
            async let version = client.apiVersion()
            async let info = client.info()
            return (try await version, try await info)
        }
        return answers.map { item, result in
            let own = records.filter { $0.engine == item.name }
            var overview = EngineOverview(
                name: item.name, host: item.host, isCurrent: item.name == engines.currentName,
                sessions: own.count,
                reservedMemoryBytes: own.reduce(0) { $0 + ($1.memoryBytes ?? 0) * Int64($1.agents.count) },
                reservedNanoCPUs: own.reduce(0) { $0 + ($1.nanoCPUs ?? 0) * Int64($1.agents.count) })
            switch result {
            case .success(let (version, info)):
                overview.apiVersion = version
                overview.serverVersion = info.serverVersion
                overview.cpus = info.cpus
                overview.memoryBytes = info.memoryBytes
            case .failure(let error):
                overview.problem = Self.engineFailure(error)
            }
            return overview
        }
    }
}
