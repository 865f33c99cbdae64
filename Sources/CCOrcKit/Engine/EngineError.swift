/// An error from the Docker engine or from reaching it.
///
/// Engine replies are classified by HTTP status the way moby's client does; "cannot reach the
/// engine" is its own case so that a CLI can tell the user to start one.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    /// The class of the failure, for callers that switch on it.
    public enum Code: String, Sendable, Equatable {
        /// 404: no such container, image, volume or exec instance.
        case notFound
        /// 409: a name in use, a container that is not running, a removal in progress.
        case conflict
        /// 400: the engine rejected the request's arguments.
        case invalidArgument
        /// 401/403: the engine refused the operation.
        case forbidden
        /// 5xx: the engine failed.
        case server
        /// Any other unexpected status.
        case unexpectedStatus
        /// Nothing answers on the socket.
        case unreachable
        /// libcurl failed mid-request (see `transport`).
        case transport
        /// The reply could not be understood (bad or truncated JSON, missing fields).
        case malformedReply
        /// `DOCKER_HOST` names a scheme the driver does not support.
        case unsupportedHost
        /// A TLS engine could not be reached: its certificate is not trusted, the client's
        /// certificate is missing, unreadable or refused, or no libcurl with TLS can be loaded.
        case tls
        /// A value was rejected before any request was sent.
        case invalidInput
        /// The request was cancelled.
        case cancelled
    }

    /// The class of the failure.
    public var code: Code
    /// The engine's own `message`, curl's text, or the driver's explanation.
    public var message: String
    /// The HTTP status, when the engine answered.
    public var status: Int?
    /// The request that failed, e.g. `POST /containers/create`.
    public var operation: String?
    /// The libcurl failure underneath, for `.unreachable` and `.transport`.
    public var transport: TransportError?
    /// What the caller was doing, put before the description (e.g. `copying volume v to
    /// unix:///other.sock: PUT archive to unix:///other.sock failed`); nil for a single request.
    public var context: String?

    /// Creates an error; see the properties for the meaning of each argument.
    public init(
        _ code: Code, _ message: String, status: Int? = nil, operation: String? = nil, transport: TransportError? = nil
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.transport = transport
    }

    /// The class moby's client gives an HTTP status.
    public static func code(forStatus status: Int) -> Code {
        switch status {
        case 400: return .invalidArgument
        case 401, 403: return .forbidden
        case 404: return .notFound
        case 409: return .conflict
        case 500...599: return .server
        default: return .unexpectedStatus
        }
    }

    /// Whether the engine refused a removal because one of the same container is still under way
    /// (409, "removal of container ... is already in progress", moby's daemon/delete.go): the
    /// container is going, and a later request finds it gone (404).
    public var isRemovalInProgress: Bool {
        code == .conflict && message.contains("removal of container ") && message.contains(" is already in progress")
    }

    public var description: String {
        guard let context else { return descriptionWithoutContext }
        return context + ": " + descriptionWithoutContext
    }

    /// This error with `context` set (replacing any it had).
    public func within(_ context: String) -> EngineError {
        var error = self
        error.context = context
        return error
    }

    private var descriptionWithoutContext: String {
        switch code {
        case .unreachable:
            return
                "cannot reach the Docker engine: \(message) (is dockerd running? start it, or point DOCKER_HOST at its socket)"
        case .malformedReply:
            return "malformed reply from the Docker engine\(operation.map { " to \($0)" } ?? ""): \(message)"
        case .transport:
            return "talking to the Docker engine\(operation.map { " (\($0))" } ?? "") failed: \(message)"
        default:
            return message
        }
    }
}
