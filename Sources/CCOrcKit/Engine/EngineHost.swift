/// Where the Docker engine listens: a Unix socket, or a TCP address with or without TLS.
public struct EngineHost: Sendable, Equatable, CustomStringConvertible {
    /// The default socket of a local dockerd.
    public static let defaultSocketPath = "/var/run/docker.sock"
    /// The port of a `tcp://` address that names none: 2376 with TLS, 2375 without (the docker
    /// CLI's defaults).
    public static func defaultPort(tls: Bool) -> Int { tls ? 2376 : 2375 }

    /// How the engine is reached.
    public enum Endpoint: Sendable, Equatable {
        /// A Unix socket at this absolute path.
        case unix(path: String)
        /// A TCP address: a host name or IP address (an IPv6 one without brackets) and a port.
        case tcp(host: String, port: Int)
    }

    /// The TLS settings of a `tcp://` engine, as the docker CLI takes them from `DOCKER_CERT_PATH`
    /// or a context's TLS directory.
    public struct TLS: Sendable, Equatable {
        /// The CA certificates the engine's certificate must chain to (`ca.pem`); nil for the
        /// system's.
        public var caFile: String?
        /// The client certificate presented to the engine (`cert.pem`); nil for none.
        public var certificateFile: String?
        /// The client certificate's private key (`key.pem`); nil for none.
        public var keyFile: String?
        /// Whether the engine's certificate and address are verified (off for `SkipTLSVerify`).
        public var verify: Bool

        /// TLS settings with these files; see the properties for what nil means.
        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, verify: Bool = true)
        {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verify = verify
        }

        /// The files of `directory` that exist, as the docker CLI reads a certificate directory:
        /// `ca.pem`, and `cert.pem` with `key.pem`.
        /// - Throws: `EngineError.Code.tls` naming the file when only one of `cert.pem` and
        ///   `key.pem` is there, or when the directory holds none of the three.
        public static func directory(_ directory: String, verify: Bool) throws -> TLS {
            func existing(_ name: String) -> String? {
                let path = Path.join(directory, name)
                return fileExists(path) ? path : nil
            }
            let ca = existing("ca.pem")
            let certificate = existing("cert.pem")
            let key = existing("key.pem")
            if ca == nil && certificate == nil && key == nil {
                throw EngineError(.tls, "\(directory) holds no TLS material (ca.pem, cert.pem, key.pem)")
            }
            if (certificate == nil) != (key == nil) {
                let missing = Path.join(directory, certificate == nil ? "cert.pem" : "key.pem")
                let present = Path.join(directory, certificate == nil ? "key.pem" : "cert.pem")
                throw EngineError(.tls, "\(missing) does not exist (\(present) needs it)")
            }
            return TLS(caFile: ca, certificateFile: certificate, keyFile: key, verify: verify)
        }
    }

    /// How the engine is reached.
    public var endpoint: Endpoint
    /// TLS for a `tcp://` engine; nil for plain HTTP (and for a Unix socket).
    public var tls: TLS?
    /// Where the address came from, for messages: e.g. `docker context remote`; nil when it was
    /// given directly. Not part of equality.
    public var origin: String?

    /// An engine on the Unix socket at `socketPath`.
    public init(socketPath: String) {
        self.endpoint = .unix(path: socketPath)
    }

    /// An engine at `endpoint`, with `tls` for a TCP one.
    public init(endpoint: Endpoint, tls: TLS? = nil, origin: String? = nil) {
        self.endpoint = endpoint
        if case .tcp = endpoint { self.tls = tls }
        self.origin = origin
    }

    /// Parses a `DOCKER_HOST` value: `unix:///path` (or a bare absolute path), `tcp://HOST:PORT`
    /// (plain HTTP; see `init(dockerHost:tls:)` for TLS); empty means the default socket.
    /// - Throws: `EngineError.Code.unsupportedHost` for `ssh://`, `npipe://` and other schemes,
    ///   and for a malformed address.
    public init(dockerHost: String?) throws {
        try self.init(dockerHost: dockerHost, tls: nil)
    }

    /// Parses a `DOCKER_HOST` value as `init(dockerHost:)` does; a `tcp://` engine is reached with
    /// `tls` (nil: plain HTTP), and a `tcp://` address without a port gets 2376 with TLS, else 2375.
    /// - Throws: `EngineError.Code.unsupportedHost` for a scheme other than unix:// and tcp://,
    ///   and for a malformed address.
    public init(dockerHost: String?, tls: TLS?) throws {
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
        } else if value.hasPrefix("tcp://") {
            guard let (host, port) = EngineHost.parseTCP(String(value.dropFirst("tcp://".count)), tls: tls != nil)
            else {
                throw EngineError(
                    .unsupportedHost,
                    "DOCKER_HOST=\(value): a tcp:// address is tcp://HOST:PORT, e.g. tcp://127.0.0.1:2376")
            }
            self.init(endpoint: .tcp(host: host, port: port), tls: tls)
        } else {
            let scheme = value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? value
            throw EngineError(
                .unsupportedHost,
                "DOCKER_HOST=\(value): the \(scheme) scheme is not supported; use unix:///path/to/docker.sock or tcp://HOST:PORT"
            )
        }
    }

    /// `HOST:PORT`, `HOST`, `[IPv6]:PORT` or `[IPv6]`, with an optional trailing `/`; nil when
    /// malformed.
    static func parseTCP(_ address: String, tls: Bool) -> (host: String, port: Int)? {
        var rest = Substring(address)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@") else { return nil }
        var port = defaultPort(tls: tls)
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { return nil }
            port = number
        }
        return (String(host), port)
    }

    /// The engine the environment names, as the docker CLI chooses it: `DOCKER_HOST` (with TLS
    /// from `DOCKER_CERT_PATH`, default `~/.docker`, when `DOCKER_TLS_VERIFY` or `DOCKER_TLS` is
    /// set), else the docker context `DOCKER_CONTEXT` or `config.json` names (see
    /// `DockerContexts`), else the local socket.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessEnvironment.current
    ) throws -> EngineHost {
        if let host = environment["DOCKER_HOST"], !host.trimmingWhitespace().isEmpty {
            let context = DockerContexts.defaultContext(environment)
            var tls: TLS?
            if let directory = context.tlsDirectory, host.trimmingWhitespace().hasPrefix("tcp://") {
                do {
                    tls = try TLS.directory(directory, verify: !context.skipTLSVerify)
                } catch let error as EngineError {
                    throw EngineError(error.code, "DOCKER_HOST=\(host) with DOCKER_CERT_PATH: \(error.message)")
                }
            }
            return try EngineHost(dockerHost: host, tls: tls)
        }
        return try EngineHost(context: DockerContexts.current(environment))
    }

    /// The Unix socket's path; nil for a TCP engine.
    public var socketPath: String? {
        if case .unix(let path) = endpoint { return path }
        return nil
    }

    /// Whether the engine runs on this machine under this kernel's view of it, so that its
    /// containers' cgroup and `/proc` files here can be trusted: true for a Unix socket only.
    public var isLocal: Bool { socketPath != nil }

    /// `unix:///path` or `tcp://host:port`.
    public var description: String {
        switch endpoint {
        case .unix(let path): return "unix://" + path
        case .tcp(let host, let port): return "tcp://\(EngineHost.bracketed(host)):\(port)"
        }
    }

    /// The engine as messages name it: `docker context NAME (tcp://...)`, or the address alone.
    public var displayName: String { origin.map { "\($0) (\(description))" } ?? description }

    /// Equal when they reach the same engine the same way (`origin` is not compared).
    public static func == (lhs: EngineHost, rhs: EngineHost) -> Bool {
        lhs.endpoint == rhs.endpoint && lhs.tls == rhs.tls
    }

    private static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// Where libcurl sends requests, and how.
    var curlEndpoint: CurlEndpoint {
        switch endpoint {
        case .unix(let path):
            return CurlEndpoint(unixSocket: path, baseURL: "http://localhost", tls: nil)
        case .tcp(let host, let port):
            let files = tls.map {
                CurlEndpoint.TLSFiles(
                    caFile: $0.caFile, certificateFile: $0.certificateFile, keyFile: $0.keyFile, verify: $0.verify)
            }
            let scheme = files == nil ? "http" : "https"
            return CurlEndpoint(
                unixSocket: nil, baseURL: "\(scheme)://\(EngineHost.bracketed(host)):\(port)", tls: files)
        }
    }
}
