import Synchronization

/// The engines ccorc may use, by docker context name, each with one client made on first use.
///
/// The current engine (the one `DOCKER_HOST`, `DOCKER_CONTEXT` or `config.json` chooses, see
/// `DockerContexts.current`) is `currentName`; a session whose registry row names no engine lives
/// there. Other names are the docker CLI's contexts. Clients are kept, so every request to one
/// engine shares its connections; nothing is global, so several pools can live in one process.
public final class EnginePool: Sendable {
    /// The name of the current engine's context.
    public let currentName: String
    /// The environment contexts are read from (`HOME`, `DOCKER_CONFIG`, `DOCKER_HOST`, ...).
    public let environment: [String: String]
    /// Requests to fail on purpose, for tests; given to every client.
    let faults: FaultInjection
    private let clients = Mutex<[String: EngineClient]>([:])

    /// The engines the environment names, with the current one chosen as the docker CLI would.
    /// - Throws: `EngineError` for a `config.json` that is not JSON or a current context that
    ///   does not exist or cannot be reached by this build (an `ssh://` endpoint).
    public init(
        environment: [String: String] = ProcessEnvironment.current, faults: FaultInjection = FaultInjection()
    )
        throws
    {
        self.environment = environment
        self.faults = faults
        self.currentName = try DockerContexts.currentName(environment)
    }

    /// A pool whose current engine is `client`, under the name `name`; other names are still
    /// looked up among the environment's contexts.
    public init(
        current client: EngineClient, name: String = "default",
        environment: [String: String] = ProcessEnvironment.current
    ) {
        self.environment = environment
        self.faults = client.faults
        self.currentName = name
        clients.withLock { $0[name] = client }
    }

    /// The client of the engine named `name` (nil: the current engine), made on first use.
    /// - Throws: `EngineError` naming the context when it does not exist or its endpoint cannot
    ///   be reached by this build.
    public func client(named name: String? = nil) throws -> EngineClient {
        let name = name ?? currentName
        if let client = clients.withLock({ $0[name] }) { return client }
        let context =
            name == currentName ? try DockerContexts.current(environment) : try DockerContexts.named(name, environment)
        let client = try EngineClient(host: try EngineHost(context: context), faults: faults)
        return clients.withLock { clients in
            if let existing = clients[name] { return existing }
            clients[name] = client
            return client
        }
    }

    /// The client of the engine that holds `record`'s containers.
    public func client(for record: SessionRecord) throws -> EngineClient {
        try client(named: record.engine)
    }

    /// The current engine's client.
    public var current: EngineClient {
        get throws { try client(named: currentName) }
    }

    /// The name `record`'s engine goes by: its own, or the current engine's.
    public func name(of record: SessionRecord) -> String { record.engine ?? currentName }

    /// Every context the docker CLI knows, `default` first.
    public func contexts() throws -> [DockerContext] { try DockerContexts.all(environment) }
}
