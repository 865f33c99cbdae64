/// Where the Docker engine listens.
public struct EngineHost: Sendable, Equatable, CustomStringConvertible {
    /// The default socket of a local dockerd.
    public static let defaultSocketPath = "/var/run/docker.sock"

    /// The Unix socket path.
    public var socketPath: String

    /// An engine on the Unix socket at `socketPath`.
    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Parses a `DOCKER_HOST` value: `unix:///path` (or a bare absolute path); empty means the
    /// default socket.
    /// - Throws: `EngineError.Code.unsupportedHost` for `tcp://`, `ssh://`, `npipe://` and others.
    public init(dockerHost: String?) throws {
        guard let value = dockerHost?.trimmingWhitespace(), !value.isEmpty else {
            self.init(socketPath: EngineHost.defaultSocketPath)
            return
        }
        if value.hasPrefix("unix://") {
            let path = String(value.dropFirst("unix://".count))
            guard path.hasPrefix("/") else {
                throw EngineError(
                    .unsupportedHost,
                    "DOCKER_HOST=\(value): a unix:// address needs an absolute path, e.g. unix:///var/run/docker.sock")
            }
            self.init(socketPath: path)
        } else if value.hasPrefix("/") {
            self.init(socketPath: value)
        } else {
            let scheme = value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? value
            throw EngineError(
                .unsupportedHost,
                "DOCKER_HOST=\(value): the \(scheme) scheme is not supported yet; use unix:///path/to/docker.sock")
        }
    }

    /// The engine the environment names, as the docker CLI chooses it: `DOCKER_HOST`, else the
    /// docker context `DOCKER_CONTEXT` or `config.json` names (see `DockerContexts`), else the
    /// local socket.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessEnvironment.current
    ) throws -> EngineHost {
        if let host = environment["DOCKER_HOST"], !host.trimmingWhitespace().isEmpty {
            return try EngineHost(dockerHost: host)
        }
        return try EngineHost(context: DockerContexts.current(environment))
    }

    public var description: String { "unix://" + socketPath }
}
