// The engines a user has already named for the docker CLI: its contexts, read from the same files
// and chosen by the same rules, so that `DOCKER_CONTEXT` and `docker context use` mean to ccorc
// what they mean to docker.

/// One docker CLI context: a name for an engine's endpoint and the TLS material to reach it.
public struct DockerContext: Sendable, Equatable {
    /// The context's name; `default` for the one the docker CLI makes from `DOCKER_HOST` or the
    /// local socket.
    public var name: String
    /// The engine's address as written: `unix:///path`, `tcp://host:port`, `ssh://user@host`.
    public var host: String
    /// The directory holding `ca.pem`, `cert.pem` and `key.pem`, when the context has TLS material.
    public var tlsDirectory: String?
    /// Whether the context says not to verify the engine's certificate.
    public var skipTLSVerify: Bool
    /// The context's description; empty when it has none.
    public var description: String

    /// A context made by hand.
    public init(
        name: String, host: String, tlsDirectory: String? = nil, skipTLSVerify: Bool = false, description: String = ""
    ) {
        self.name = name
        self.host = host
        self.tlsDirectory = tlsDirectory
        self.skipTLSVerify = skipTLSVerify
        self.description = description
    }
}

/// Reads the docker CLI's contexts: `CONFIG/contexts/meta/ID/meta.json` (name, endpoint host, TLS
/// flag) with TLS material in `CONFIG/contexts/tls/ID/docker/`, where CONFIG is `DOCKER_CONFIG`
/// or `~/.docker` and the current context is named by `config.json`'s `currentContext`.
public enum DockerContexts {
    /// The docker CLI's configuration directory: `$DOCKER_CONFIG`, else `~/.docker`.
    public static func configDirectory(_ environment: [String: String]) -> String {
        if let directory = environment["DOCKER_CONFIG"], !directory.isEmpty { return directory }
        return Path.join(ProcessEnvironment.homeDirectory(environment), ".docker")
    }

    /// The context the docker CLI would use, by the CLI's own order: `DOCKER_HOST` (the default
    /// context at that address), then `DOCKER_CONTEXT`, then `config.json`'s `currentContext`,
    /// then `default`.
    /// - Throws: `EngineError.Code.invalidInput` for a `config.json` that is not JSON.
    public static func currentName(_ environment: [String: String]) throws -> String {
        if let host = environment["DOCKER_HOST"], !host.trimmingWhitespace().isEmpty { return "default" }
        if let name = environment["DOCKER_CONTEXT"], !name.isEmpty { return name }
        let path = Path.join(configDirectory(environment), "config.json")
        guard fileExists(path) else { return "default" }
        let config = try parse(path)
        if let name = config["currentContext"]?.string, !name.isEmpty { return name }
        return "default"
    }

    /// The `default` context: `DOCKER_HOST` (with `DOCKER_CERT_PATH`, default `~/.docker`, when
    /// `DOCKER_TLS_VERIFY` is set, or unverified when only `DOCKER_TLS` is, as the docker CLI
    /// reads them), else the local socket.
    public static func defaultContext(_ environment: [String: String]) -> DockerContext {
        let host = environment["DOCKER_HOST"]?.trimmingWhitespace() ?? ""
        var context = DockerContext(
            name: "default", host: host.isEmpty ? "unix://" + EngineHost.defaultSocketPath : host,
            description: "DOCKER_HOST, else the local engine")
        let verify = environment["DOCKER_TLS_VERIFY"].map { !$0.isEmpty } ?? false
        let tls = environment["DOCKER_TLS"].map { !$0.isEmpty } ?? false
        if verify || tls {
            context.tlsDirectory =
                environment["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 }
                ?? configDirectory(environment)
            context.skipTLSVerify = !verify
        }
        return context
    }

    /// Every context: `default` first, then the ones in the contexts directory, by name.
    /// - Throws: `EngineError.Code.invalidInput` for a `meta.json` that is not a context.
    public static func all(_ environment: [String: String]) throws -> [DockerContext] {
        let directory = Path.join(configDirectory(environment), "contexts")
        let meta = Path.join(directory, "meta")
        var contexts: [DockerContext] = []
        let identifiers = (try? FileTree.names(inDirectory: Array(meta.utf8), followLinks: true)) ?? []
        for identifier in identifiers.map({ String(decoding: $0, as: UTF8.self) }) {
            let path = Path.join(Path.join(meta, identifier), "meta.json")
            guard fileExists(path) else { continue }
            contexts.append(try context(at: path, tlsDirectory: Path.join(Path.join(directory, "tls"), identifier)))
        }
        return [defaultContext(environment)] + contexts.sorted { $0.name < $1.name }
    }

    /// The context named `name` (`default` included).
    /// - Throws: `EngineError.Code.notFound` naming the contexts there are.
    public static func named(_ name: String, _ environment: [String: String]) throws -> DockerContext {
        let contexts = try all(environment)
        guard let context = contexts.first(where: { $0.name == name }) else {
            throw EngineError(
                .notFound,
                "no docker context named \(name) (there are: \(contexts.map(\.name).joined(separator: ", ")); see `docker context ls`)"
            )
        }
        return context
    }

    /// The context the environment chooses (see `currentName`).
    public static func current(_ environment: [String: String]) throws -> DockerContext {
        let name = try currentName(environment)
        return name == "default" ? defaultContext(environment) : try named(name, environment)
    }

    /// One `meta.json`: `{"Name": ..., "Metadata": {"Description": ...}, "Endpoints": {"docker":
    /// {"Host": ..., "SkipTLSVerify": ...}}}`; its TLS material counts when `tlsDirectory/docker`
    /// holds any.
    static func context(at path: String, tlsDirectory: String) throws -> DockerContext {
        let meta = try parse(path)
        guard let name = meta["Name"]?.string, let host = meta["Endpoints"]?["docker"]?["Host"]?.string else {
            throw EngineError(.invalidInput, "\(path) is not a docker context (no Name or Endpoints.docker.Host)")
        }
        let material = Path.join(tlsDirectory, "docker")
        let hasMaterial = ["ca.pem", "cert.pem", "key.pem"].contains { fileExists(Path.join(material, $0)) }
        return DockerContext(
            name: name, host: host, tlsDirectory: hasMaterial ? material : nil,
            skipTLSVerify: meta["Endpoints"]?["docker"]?["SkipTLSVerify"]?.bool ?? false,
            description: meta["Metadata"]?["Description"]?.string ?? "")
    }

    private static func parse(_ path: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(try readFileBytes(path))
        } catch let error as JSONError {
            throw EngineError(.invalidInput, "\(path) is not JSON: \(error)")
        }
    }
}

extension EngineHost {
    /// The engine of `context`: its Unix socket, or its `tcp://` address with TLS when the context
    /// has TLS material (or says `SkipTLSVerify`), verified unless it says `SkipTLSVerify`.
    /// - Throws: `EngineError.Code.unsupportedHost`, naming the context, for an endpoint this
    ///   build cannot reach (`ssh://`) or a malformed address; `EngineError.Code.tls` for TLS
    ///   material that is incomplete.
    public init(context: DockerContext) throws {
        // A bare absolute path (as DOCKER_HOST may give it) is a Unix socket.
        let scheme =
            context.host.hasPrefix("/")
            ? "unix" : context.host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? context.host
        let origin = context.name == "default" ? nil : "docker context \(context.name)"
        switch scheme {
        case "unix", "tcp":
            var tls: TLS?
            do {
                if scheme == "tcp" {
                    if let directory = context.tlsDirectory {
                        tls = try TLS.directory(directory, verify: !context.skipTLSVerify)
                    } else if context.skipTLSVerify {
                        tls = TLS(verify: false)
                    }
                }
                try self.init(dockerHost: context.host, tls: tls)
            } catch let error as EngineError {
                throw EngineError(error.code, "docker context \(context.name): \(error.message)")
            }
            self.origin = origin
        case "ssh":
            throw EngineError(
                .unsupportedHost,
                "docker context \(context.name): ssh:// endpoints (\(context.host)) are not supported; reach the engine over unix:// or tcp:// instead"
            )
        default:
            throw EngineError(
                .unsupportedHost,
                "docker context \(context.name): \(scheme):// endpoints (\(context.host)) are not supported; use unix:// or tcp://"
            )
        }
    }
}
