import CCOrcHeader
import CCOrcKit
import Dispatch
import Glibc
import Synchronization

// The boundary between C callers and the driver: reading C arguments, waiting for async work on
// the caller's thread, and turning every Swift error into a status code and a message. Nothing
// thrown here crosses the ABI.

/// `char **` out-parameters for JSON results.
public typealias ResultPointer = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
/// `const char *const *` arrays of strings.
public typealias StringArrayPointer = UnsafePointer<UnsafePointer<CChar>?>

/// A failure found at the boundary itself (a NULL argument, an unsupported operation).
struct BoundaryError: CCOrcError {
    var kind: ErrorKind
    var message: String
    var description: String { message }

    init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func invalid(_ message: String) -> BoundaryError { BoundaryError(.invalidInput, message) }
}

/// What a bulk call returns: its per-name JSON, and the first failure if any name failed.
struct BulkOutcome {
    var json: JSONValue
    var firstFailure: Error?
}

/// The status code a driver error maps to: its kind's, and `CCORC_ERR_INTERNAL` for an error
/// outside the vocabulary.
func status(of error: Error) -> ccorc_status {
    (error as? any CCOrcError)?.kind.status ?? CCORC_ERR_INTERNAL
}

extension ErrorKind {
    /// The C ABI's status for each kind of error: the one place it is decided.
    var status: ccorc_status {
        switch self {
        case .notFound: return CCORC_ERR_NOT_FOUND
        case .alreadyExists: return CCORC_ERR_ALREADY_EXISTS
        case .conflict: return CCORC_ERR_CONFLICT
        case .invalidInput: return CCORC_ERR_INVALID_ARGUMENT
        case .engineUnreachable: return CCORC_ERR_ENGINE_UNREACHABLE
        case .engine: return CCORC_ERR_ENGINE
        case .tmux: return CCORC_ERR_TMUX
        case .registry: return CCORC_ERR_REGISTRY
        case .session: return CCORC_ERR_SESSION
        case .unsupported: return CCORC_ERR_UNSUPPORTED
        case .internal: return CCORC_ERR_INTERNAL
        }
    }
}

/// Fills the caller's error: the code and the message, cut to fit on a UTF-8 character boundary.
func report(_ status: ccorc_status, _ message: String, to error: UnsafeMutablePointer<ccorc_error>?) {
    guard let error else { return }
    error.pointee.code = status
    withUnsafeMutableBytes(of: &error.pointee.message) { buffer in
        var bytes = Array(message.utf8.map { $0 == 0 ? UInt8(ascii: " ") : $0 })
        if bytes.count > buffer.count - 1 {
            var cut = buffer.count - 1
            // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
            while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            bytes.removeSubrange(cut...)
        }
        buffer.copyBytes(from: bytes)
        buffer[bytes.count] = 0
    }
}

/// Hands a JSON value to the caller as a string it frees with `ccorc_free`.
func deliver(_ value: JSONValue, to result: ResultPointer) throws {
    guard let copy = strdup(value.serialized()) else { throw BoundaryError(.internal, "out of memory") }
    result.pointee = copy
}

/// Runs one exported call that returns no value: clears the error, runs `body`, converts what it throws.
func exportedCall(_ error: UnsafeMutablePointer<ccorc_error>?, _ body: () throws -> Void) -> ccorc_status {
    do {
        try body()
        report(CCORC_OK, "", to: error)
        return CCORC_OK
    } catch let failure {
        let code = status(of: failure)
        report(code, "\(failure)", to: error)
        return code
    }
}

/// Runs one exported call that returns JSON: the result is NULL until `body` succeeds.
func exportedCall(
    _ result: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?, _ body: () throws -> JSONValue
) -> ccorc_status {
    result?.pointee = nil
    return exportedCall(error) {
        guard let result else { throw BoundaryError.invalid("the result pointer must not be NULL") }
        try deliver(try body(), to: result)
    }
}

/// Runs one bulk call: its JSON is delivered also when some names failed; the status is the first failure's.
func exportedBulkCall(
    _ result: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?, _ body: () throws -> BulkOutcome
) -> ccorc_status {
    result?.pointee = nil
    return exportedCall(error) {
        guard let result else { throw BoundaryError.invalid("the result pointer must not be NULL") }
        let outcome = try body()
        try deliver(outcome.json, to: result)
        if let failure = outcome.firstFailure { throw failure }
    }
}

/// `{"NAME": [...], "failed": [{"name", "code", "message"}]}` for a bulk call's per-name errors.
func bulkOutcome(_ results: [(name: SessionName, error: Error?)], succeededKey: String) -> BulkOutcome {
    let failures = results.compactMap { result in result.error.map { (result.name, $0) } }
    let json: JSONValue = [
        succeededKey: JSONValue(strings: results.filter { $0.error == nil }.map(\.name.rawValue)),
        "failed": .array(
            failures.map { name, error in
                [
                    "name": .string(name.rawValue), "code": .int(Int64(status(of: error).rawValue)),
                    "message": .string("\(error)"),
                ]
            }),
    ]
    return BulkOutcome(json: json, firstFailure: failures.first?.1)
}

/// Waits on the calling thread for async driver work. Exported functions are called from C
/// threads, never from a Swift task, so blocking here cannot starve the cooperative pool.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return try outcome.withLock { $0! }.get()
}

/// A required C string argument.
func requiredString(_ pointer: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let pointer else { throw BoundaryError.invalid("\(what) must not be NULL") }
    guard let value = String(validatingCString: pointer) else {
        throw BoundaryError.invalid("\(what) is not valid UTF-8")
    }
    return value
}

/// An optional C string argument; NULL is nil.
func optionalString(_ pointer: UnsafePointer<CChar>?, _ what: String) throws -> String? {
    guard let pointer else { return nil }
    return try requiredString(pointer, what)
}

/// A C array of `count` strings; NULL with a count of 0 is empty.
func stringArray(_ pointer: StringArrayPointer?, count: Int, _ what: String) throws -> [String] {
    guard count > 0 else { return [] }
    guard let pointer else { throw BoundaryError.invalid("\(what) is NULL but its count is \(count)") }
    return try (0..<count).map { try requiredString(pointer[$0], "\(what)[\($0)]") }
}

/// A required session name.
func sessionName(_ pointer: UnsafePointer<CChar>?) throws -> SessionName {
    try SessionName(try requiredString(pointer, "the session name"))
}

/// A C array of session names.
func sessionNames(_ pointer: StringArrayPointer?, count: Int) throws -> [SessionName] {
    try stringArray(pointer, count: count, "names").map { try SessionName($0) }
}

/// An options struct the caller initialized with its `_init` function; reads `size` first so a
/// struct of another layout is refused rather than read past its end. A struct that grew keeps
/// accepting the size of an older header, from `oldestSize` up: only its first `size` bytes are
/// read, and the fields beyond them keep their defaults (zero, NULL).
func initializedOptions<Options>(
    _ pointer: UnsafePointer<Options>, _ initializer: String, oldestSize: Int? = nil
) throws -> Options {
    let size = UnsafeRawPointer(pointer).load(as: Int.self)
    if size == MemoryLayout<Options>.size { return pointer.pointee }
    guard let oldestSize, size >= oldestSize, size < MemoryLayout<Options>.size else {
        throw BoundaryError.invalid(
            "the options' size field is \(size), not \(MemoryLayout<Options>.size): initialize them with \(initializer)()"
        )
    }
    let copy = UnsafeMutablePointer<Options>.allocate(capacity: 1)
    defer { copy.deallocate() }
    initializeOptions(copy)
    UnsafeMutableRawPointer(copy).copyMemory(from: UnsafeRawPointer(pointer), byteCount: size)
    return copy.pointee
}

/// Clears an options struct and sets its size field.
func initializeOptions<Options>(_ pointer: UnsafeMutablePointer<Options>?) {
    guard let pointer else { return }
    UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Options>.size)
    UnsafeMutableRawPointer(pointer).storeBytes(of: MemoryLayout<Options>.size, as: Int.self)
}
