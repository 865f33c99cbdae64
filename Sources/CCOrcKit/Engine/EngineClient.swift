import Synchronization

/// A client of the Docker Engine HTTP API over a Unix socket, driven through libcurl.
///
/// One instance keeps its connections open and may be used from many tasks at once: asynchronous
/// calls run concurrently on a shared curl multi handle, so bulk operations fan out by starting
/// several calls in a task group. The API version is negotiated from `GET /version` on first use
/// and is never newer than the engine supports. Endpoint groups live in their own files
/// (`Containers.swift`, `Images.swift`, `Volumes.swift`, `System.swift`, `Exec.swift`).
///
/// ```swift
/// let engine = try EngineClient()
/// let containers = try await engine.listContainers(all: true)
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     for container in containers { group.addTask { try await engine.removeContainer(container.id, force: true) } }
///     try await group.waitForAll()
/// }
/// ```
public final class EngineClient: Sendable {
    /// The newest API version this driver speaks.
    public static let maximumAPIVersion = "1.43"
    /// The version used when the engine's reply names none.
    public static let fallbackAPIVersion = "1.41"

    /// Where the engine listens.
    public let host: EngineHost
    let transport: CurlTransport
    /// Requests to fail on purpose, for tests (see `FaultInjection`); none by default.
    let faults: FaultInjection
    private let negotiatedVersion = Mutex<String?>(nil)

    /// Creates a client for `host` (default: `DOCKER_HOST`, else `/var/run/docker.sock`).
    /// No request is sent until the first call.
    /// - Parameters:
    ///   - apiVersion: a fixed API version to use instead of negotiating one.
    ///   - faults: requests to fail on purpose, for tests; none by default.
    public init(host: EngineHost? = nil, apiVersion: String? = nil, faults: FaultInjection = FaultInjection()) throws {
        self.host = try host ?? EngineHost.fromEnvironment()
        self.faults = faults
        do {
            self.transport = try CurlTransport(endpoint: self.host.curlEndpoint)
        } catch {
            throw EngineClient.classify(error, host: self.host, operation: nil)
        }
        negotiatedVersion.withLock { $0 = apiVersion }
    }

    /// The API version requests use, negotiated on first call from the `API-Version` header of
    /// `HEAD /_ping` (what the docker CLI reads too; cheaper than `GET /version`).
    public func apiVersion() async throws -> String {
        if let version = negotiatedVersion.withLock({ $0 }) { return version }
        let reply: HTTPResponse
        do {
            reply = try await send(.head, "/_ping", timeout: 10, versioned: false)
        } catch let error as EngineError where error.status == 400 && host.tls == nil && !host.isLocal {
            // What Go's TLS server answers plain HTTP with (its text is in a body HEAD does not get).
            throw EngineError(
                .tls,
                "\(host.displayName) answered plain HTTP with 400: it may want TLS (set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or use a docker context with TLS material)",
                status: 400, operation: error.operation)
        }
        let engineVersion = reply.header("api-version") ?? EngineClient.fallbackAPIVersion
        let chosen = APIVersion.minimum(engineVersion, EngineClient.maximumAPIVersion)
        negotiatedVersion.withLock { $0 = chosen }
        return chosen
    }

    // MARK: - Requests

    /// The HTTP methods the Engine API uses.
    enum Method: String {
        case get = "GET"
        case post = "POST"
        case delete = "DELETE"
        case head = "HEAD"
        case put = "PUT"
    }

    /// Builds the request path: `/vX.Y` + `path` + the percent-encoded query.
    /// - Throws: `EngineError.notFound` for a `.` or `..` segment (see `refuseDotSegments`).
    func path(_ path: String, query: [(String, String?)], versioned: Bool) async throws -> String {
        try EngineClient.refuseDotSegments(path)
        var full = versioned ? "/v" + (try await apiVersion()) + path : path
        let items = query.compactMap { name, value in value.map { "\(name)=\(EngineClient.percentEncode($0))" } }
        if !items.isEmpty { full += "?" + items.joined(separator: "&") }
        return full
    }

    /// Sends one request and classifies the reply; statuses of 400 and above become `EngineError`.
    /// 304 (not modified) is returned, not thrown: start/stop treat it as "already so". When a
    /// streamed body's producer fails, its own error is thrown (a `TarError` naming a path, say).
    func send(
        _ method: Method, _ path: String, query: [(String, String?)] = [], body: HTTPRequestBody? = nil,
        contentType: String? = nil, timeout: Double? = 120, versioned: Bool = true,
        sink: HTTPChunkSink? = nil
    ) async throws -> HTTPResponse {
        let operation = "\(method.rawValue) \(path)"
        let request = HTTPRequest(
            method: method.rawValue, path: try await self.path(path, query: query, versioned: versioned),
            body: body, contentType: contentType ?? (body == nil ? nil : "application/json"), timeout: timeout)
        try injectFault(operation)
        let response: HTTPResponse
        do {
            response = try await transport.send(request, sink: sink)
        } catch {
            if error.code == .requestBodyFailed, let cause = error.cause { throw cause }
            throw classify(error, operation: operation)
        }
        try check(response, operation: operation)
        return response
    }

    /// Like `send`, but blocks the calling thread; for callers outside Swift concurrency, for
    /// latency-critical single calls, and for a streamed reply whose `sink` may block (a relay's
    /// backpressure), which must not hold up the shared multi loop.
    func sendBlocking(
        _ method: Method, _ fullPath: String, body: [UInt8]? = nil, timeout: Double? = 120,
        sink: HTTPChunkSink? = nil
    ) throws -> HTTPResponse {
        let operation = "\(method.rawValue) \(fullPath)"
        try EngineClient.refuseDotSegments(String(fullPath.prefix { $0 != "?" }))
        let request = HTTPRequest(
            method: method.rawValue, path: fullPath, body: body.map(HTTPRequestBody.bytes),
            contentType: body == nil ? nil : "application/json", timeout: timeout)
        try injectFault(operation)
        let response: HTTPResponse
        do {
            response = try transport.sendBlocking(request, sink: sink)
        } catch {
            throw classify(error, operation: operation)
        }
        try check(response, operation: operation)
        return response
    }

    /// Fails a request that a test asked to fail, as a 500 from the engine would (see `FaultInjection`).
    private func injectFault(_ operation: String) throws {
        if let message = faults.failure(of: .engine, operation) {
            throw EngineError(.server, message, status: 500, operation: operation)
        }
    }

    /// Sends a request whose reply is JSON and parses it.
    /// - Parameter projection: for list replies, the parts of each element worth parsing.
    func json(
        _ method: Method, _ path: String, query: [(String, String?)] = [], body: JSONValue? = nil,
        timeout: Double? = 120, versioned: Bool = true, projection: JSONProjection? = nil
    ) async throws -> JSONValue {
        let response = try await send(
            method, path, query: query, body: body.map { .bytes($0.serializedBytes()) }, timeout: timeout,
            versioned: versioned)
        return try parse(response.body, operation: "\(method.rawValue) \(path)", projection: projection)
    }

    /// Parses a JSON reply body, turning jansson's complaint into `.malformedReply`.
    func parse(_ body: [UInt8], operation: String, projection: JSONProjection? = nil) throws -> JSONValue {
        do {
            return try JSONValue.parse(body, projection: projection)
        } catch {
            throw EngineError(.malformedReply, error.message, operation: operation)
        }
    }

    /// Turns a libcurl failure into the engine error a caller can act on.
    func classify(_ error: TransportError, operation: String) -> EngineError {
        EngineClient.classify(error, host: host, operation: operation)
    }

    static func classify(_ error: TransportError, host: EngineHost, operation: String?) -> EngineError {
        switch error.code {
        case .couldNotConnect:
            return EngineError(
                .unreachable, "nothing answers on \(host.socketPath ?? host.displayName) (\(error.message))",
                operation: operation, transport: error)
        case .tls, .tlsUnavailable:
            return EngineError(
                .tls, EngineTLSFailure.message(error, host: host), operation: operation, transport: error)
        case .cancelled:
            return EngineError(.cancelled, "request cancelled", operation: operation, transport: error)
        case .replyTooLarge:
            return EngineError(.malformedReply, error.message, operation: operation, transport: error)
        default:
            return EngineError(.transport, error.description, operation: operation, transport: error)
        }
    }

    private func check(_ response: HTTPResponse, operation: String) throws {
        guard response.status >= 400 else { return }
        // The engine's errors are `{"message": "..."}`; fall back to the raw text.
        let text = String(decoding: response.body, as: UTF8.self)
        let message =
            (try? JSONValue.parse(response.body))?["message"]?.string
            ?? (text.isEmpty ? "HTTP \(response.status)" : text.trimmingWhitespaceAndNewlines())
        throw EngineError(
            EngineError.code(forStatus: response.status), message, status: response.status, operation: operation)
    }

    /// Refuses a path with a `.` or `..` segment (a name of `.` or `..`) before any request.
    ///
    /// libcurl collapses such segments (RFC 3986 dot-segment removal), so `ccdk status ..` would ask
    /// `GET /v1.41/json`; percent-encoding does not help, as the engine decodes `%2E%2E` and answers
    /// 301 to the cleaned path. No container, image, volume or exec instance can be called `.` or
    /// `..` (the engine's names begin with a letter or digit), so the truthful answer is the
    /// engine's own "not found", given here without asking.
    static func refuseDotSegments(_ path: String) throws {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard let index = segments.firstIndex(where: { $0 == "." || $0 == ".." }) else { return }
        let name = String(segments[index])
        let message: String
        switch index > 0 ? segments[index - 1] : "" {
        case "containers": message = "No such container: \(name)"
        case "images": message = "No such image: \(name)"
        case "exec": message = "No such exec instance: \(name)"
        case "volumes": message = "get \(name): no such volume"
        default: message = "no such object: \(name)"
        }
        throw EngineError(.notFound, message, operation: path)
    }

    /// Percent-encodes a query value (everything but unreserved characters).
    static func percentEncode(_ value: String) -> String {
        var encoded = ""
        for byte in value.utf8 {
            let scalar = Unicode.Scalar(byte)
            if scalar.isASCIIAlphanumeric || "-._~".unicodeScalars.contains(scalar) {
                encoded.unicodeScalars.append(scalar)
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                encoded.unicodeScalars.append(
                    contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]].map(Unicode.Scalar.init)
                )
            }
        }
        return encoded
    }

    /// Encodes list filters as the engine's `filters` query value: `{"label":["a=b"],...}`.
    static func filtersQuery(_ filters: [String: [String]]) -> String? {
        let nonEmpty = filters.filter { !$0.value.isEmpty }
        guard !nonEmpty.isEmpty else { return nil }
        return JSONValue.object(nonEmpty.mapValues { JSONValue(strings: $0) }).serialized()
    }

    /// Encodes a boolean query flag.
    static func flag(_ value: Bool) -> String { value ? "1" : "0" }
}

/// Dotted API version strings, compared numerically.
enum APIVersion {
    /// The lower of two versions such as "1.41" and "1.43".
    static func minimum(_ a: String, _ b: String) -> String {
        isOlder(a, than: b) ? a : b
    }

    /// Whether `a` is older than `b`.
    static func isOlder(_ a: String, than b: String) -> Bool {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }
        let right = b.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? left[index] : 0
            let r = index < right.count ? right[index] : 0
            if l != r { return l < r }
        }
        return false
    }
}
