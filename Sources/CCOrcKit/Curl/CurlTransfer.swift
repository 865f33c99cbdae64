import CShims
import Synchronization

// One of the few files that touch libcurl's pointers. A `CurlTransfer` owns a `CURL *` easy
// handle configured for one HTTP request to the engine (Unix socket or TCP, see `CurlEndpoint`); it is run either on the calling
// thread (`perform()`) or by the shared `CurlMultiLoop`. Callbacks find their transfer again
// through the userdata pointer (`Unmanaged`), and every error is handed out as a Swift value after
// the C call returns.

/// An HTTP request to the engine, independent of libcurl.
public struct HTTPRequest: Sendable {
    /// `GET`, `POST`, `DELETE`, ...
    public var method: String
    /// The path with its query string, e.g. `/v1.41/containers/json?all=1`.
    public var path: String
    /// The request body: bytes sent as they are, or a stream made while it is sent; nil for none.
    public var body: HTTPRequestBody?
    /// The body's media type; nil sends none.
    public var contentType: String?
    /// Whole-transfer timeout in seconds; nil waits as long as the reply takes.
    public var timeout: Double?

    /// Creates a request; see the properties for the meaning of each argument.
    public init(
        method: String, path: String, body: HTTPRequestBody? = nil, contentType: String? = nil, timeout: Double? = nil
    ) {
        self.method = method
        self.path = path
        self.body = body
        self.contentType = contentType
        self.timeout = timeout
    }
}

/// The status, headers and (unless streamed) body of an HTTP reply.
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Header lines as name/value pairs, names lower-cased.
    public var headers: [(name: String, value: String)]
    /// The body; empty when it was delivered to a stream sink instead.
    public var body: [UInt8]

    /// The value of the first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }
}

/// A libcurl failure: the CURLcode and curl's own text.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for callers that switch on it.
    public enum Code: Sendable, Equatable {
        /// The socket could not be connected (no engine listening).
        case couldNotConnect
        /// The transfer took longer than its timeout.
        case timedOut
        /// The transfer was cancelled by the caller.
        case cancelled
        /// A streamed request body failed to produce its bytes (see `cause`); the upload was aborted.
        case requestBodyFailed
        /// A buffered reply body grew past `CurlTransfer.maximumBufferedReply`; the transfer was aborted.
        case replyTooLarge
        /// The TLS connection failed: an untrusted or unreadable certificate, a failed handshake,
        /// or an engine that refused the client's certificate (or its absence).
        case tls
        /// TLS is needed but the system's libcurl.so.4 with TLS could not be loaded (see `message`).
        case tlsUnavailable
        /// Any other libcurl failure.
        case other
    }
    /// The class of the failure.
    public var code: Code
    /// The raw CURLcode (or CURLMcode) value.
    public var curlCode: Int
    /// curl's description, from CURLOPT_ERRORBUFFER or curl_easy_strerror.
    public var message: String
    /// For `.requestBodyFailed`, the error the body's producer threw.
    public var cause: (any Error)?

    public var description: String { "\(message) (curl error \(curlCode))" }

    init(curlCode: CURLcode, detail: String?) {
        self.curlCode = Int(curlCode.rawValue)
        let generic = String(cString: curl_easy_strerror(curlCode))
        self.message = (detail?.isEmpty == false) ? detail! : generic
        switch curlCode {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST: code = .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT: code = .timedOut
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CONNECT_ERROR,
            CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED, CURLE_SSL_CLIENTCERT:
            code = .tls
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
            // An engine that refuses the client's certificate (or its absence) does so with a TLS
            // alert after the handshake (TLS 1.3): the first read fails with OpenSSL's text.
            code = message.contains("SSL") || message.contains("alert") ? .tls : .other
        default: code = .other
        }
    }

    init(code: Code, message: String) {
        self.code = code
        self.curlCode = -1
        self.message = message
    }

    /// The upload stopped because its body stream's producer threw `cause`.
    init(bodyFailure cause: any Error) {
        self.init(code: .requestBodyFailed, message: "request body failed: \(cause)")
        self.cause = cause
    }
}

/// Receives a streamed body chunk by chunk; returns false to stop the transfer.
public typealias HTTPChunkSink = @Sendable (_ chunk: [UInt8]) -> Bool

/// Owns a `CURL *` easy handle, freed in `deinit`. Not thread-safe: one transfer at a time.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// The libcurl that made the handle; every call on it goes through this one.
    let library: CurlLibrary

    init(library: CurlLibrary) throws(TransportError) {
        guard let handle = cshims_curl_easy_init(library.api) else {
            throw TransportError(code: .other, message: "curl_easy_init failed")
        }
        self.handle = handle
        self.library = library
    }

    deinit { cshims_curl_easy_cleanup(library.api, handle) }
}

/// One configured HTTP request on an easy handle, with its reply buffers.
final class CurlTransfer: @unchecked Sendable {
    /// The most bytes of a reply body held in memory (256 MiB). A list of 10,000 containers is
    /// about 100 MB of JSON, so a real reply stays well under this; an engine (or something posing
    /// as one) that sends without end is stopped here instead of growing the process until the
    /// kernel kills it. Replies delivered to a sink (logs, events, build progress) are not held and
    /// not capped.
    static let maximumBufferedReply = 256 * 1024 * 1024

    let easy: CurlEasy
    private(set) var status = 0
    private var headerLines: [(String, String)] = []
    /// The reply body as it arrived, joined once at the end: growing one array through a 3 MB
    /// list reply copied it twice over and faulted in twice its pages.
    private var bodyChunks: [[UInt8]] = []
    /// The bytes in `bodyChunks`, checked against `maximumBufferedReply`.
    private var bufferedBytes = 0
    /// Set when the reply outgrew `maximumBufferedReply` and the transfer was aborted for it.
    private var replyTooLarge = false
    private let sink: HTTPChunkSink?
    private var requestBody: UnsafeMutableRawBufferPointer?
    /// A body made while it is sent, pulled by `curlReadCallback`.
    private var bodyStream: HTTPBodyStream?
    /// Whether the request body is made while it is sent (see `HTTPRequestBody`).
    var streamsBody: Bool { bodyStream != nil }
    /// Set by the multi loop: asks it to resume this transfer's paused upload. Nil when the transfer
    /// runs on the caller's thread (`perform`), where the read callback waits for the stream instead.
    var resumeUpload: (@Sendable () -> Void)?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Set from any thread; checked by the callbacks, which then abort the transfer.
    private let cancelled = Mutex(false)
    /// Called by the multi loop when the transfer ends.
    var completion: ((Result<HTTPResponse, TransportError>) -> Void)?

    /// Configures `easy` for `request` to `endpoint`.
    init(easy: CurlEasy, endpoint: CurlEndpoint, request: HTTPRequest, sink: HTTPChunkSink?) throws(TransportError) {
        self.easy = easy
        self.sink = sink
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try configure(endpoint: endpoint, request: request)
    }

    deinit {
        // The handle may already be back in a pool and in use by another transfer, so it is not
        // touched here: `configure` resets it before each use.
        if let headerList { cshims_curl_slist_free_all(easy.library.api, headerList) }
        requestBody?.deallocate()
        bodyStream?.close()
        errorBuffer.deallocate()
    }

    private func check(_ code: CURLcode) throws(TransportError) {
        if code != CURLE_OK { throw TransportError(curlCode: code, detail: nil) }
    }

    private func configure(endpoint: CurlEndpoint, request: HTTPRequest) throws(TransportError) {
        let handle = easy.handle
        let api = easy.library.api
        cshims_curl_easy_reset(api, handle)
        try endpoint.apply(to: handle, of: easy.library)
        try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_URL, endpoint.baseURL + request.path))
        try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_CUSTOMREQUEST, request.method))
        try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_ERRORBUFFER, errorBuffer))
        try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_NOSIGNAL, 1))
        try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_CONNECTTIMEOUT_MS, 10_000))
        if let timeout = request.timeout {
            try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000))))
        }
        if request.method == "HEAD" {
            try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_NOBODY, 1))
        }
        // "Expect:" stops curl from waiting for 100-continue on large bodies.
        var headers = ["Expect:"]
        if let contentType = request.contentType { headers.append("Content-Type: " + contentType) }
        if case .stream? = request.body { headers.append("Transfer-Encoding: chunked") }
        for line in headers { headerList = cshims_curl_slist_append(api, headerList, line) }
        try check(cshims_curl_easy_setopt_slist(api, handle, CURLOPT_HTTPHEADER, headerList))
        switch request.body {
        case .bytes(let bytes)?:
            // POSTFIELDS keeps a pointer, so the body lives in memory this object owns.
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            storage.copyBytes(from: bytes)
            requestBody = storage
            try check(cshims_curl_easy_setopt_off(api, handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)))
            try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_POSTFIELDS, storage.baseAddress))
        case .stream(let stream)?:
            // A POST without POSTFIELDS reads its body through CURLOPT_READFUNCTION; a size of -1
            // (unknown) makes it chunked. CUSTOMREQUEST still names the method.
            guard stream.start() else {
                throw TransportError(code: .other, message: "a streamed request body can be sent only once")
            }
            bodyStream = stream
            try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_POST, 1))
            try check(cshims_curl_easy_setopt_off(api, handle, CURLOPT_POSTFIELDSIZE_LARGE, -1))
            // Fewer, larger reads than the 64 KiB default; the stream keeps its own bounded buffer.
            try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_UPLOAD_BUFFERSIZE, 512 * 1024))
            try check(
                cshims_curl_easy_setopt_read_cb(
                    api, handle, curlReadCallback, Unmanaged.passUnretained(self).toOpaque()))
        case nil:
            if request.method == "POST" || request.method == "PUT" {
                try check(cshims_curl_easy_setopt_off(api, handle, CURLOPT_POSTFIELDSIZE_LARGE, 0))
                try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_POSTFIELDS, ""))
            }
        }
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        try check(cshims_curl_easy_setopt_write_cb(api, handle, curlWriteCallback, userdata))
        try check(cshims_curl_easy_setopt_header_cb(api, handle, curlHeaderCallback, userdata))
    }

    /// Asks the transfer to stop at its next callback.
    func cancel() { cancelled.withLock { $0 = true } }

    var isCancelled: Bool { cancelled.withLock { $0 } }

    fileprivate func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if isCancelled { return false }
        if let sink, (200..<300).contains(currentStatus()) {
            return sink(Array(bytes))
        }
        bufferedBytes += bytes.count
        if bufferedBytes > CurlTransfer.maximumBufferedReply {
            replyTooLarge = true
            bodyChunks = []
            return false
        }
        bodyChunks.append(Array(bytes))
        return true
    }

    /// Fills libcurl's upload buffer from the body stream; returns a byte count, 0 at the end, or
    /// CURL_READFUNC_PAUSE / CURL_READFUNC_ABORT.
    fileprivate func sendBody(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        if isCancelled { return Int(CURL_READFUNC_ABORT) }
        guard let bodyStream else { return 0 }
        let resume = resumeUpload
        switch bodyStream.read(into: buffer, wait: resume == nil, whenReady: resume) {
        case .bytes(let count): return count
        case .end: return 0
        case .pending: return Int(CURL_READFUNC_PAUSE)
        case .failed: return Int(CURL_READFUNC_ABORT)
        }
    }

    fileprivate func receiveHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if isCancelled { return false }
        let line = String(decoding: bytes, as: UTF8.self).trimmingWhitespaceAndNewlines()
        if line.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue or a redirect) starts a new header block.
            headerLines.removeAll()
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            headerLines.append((name, value))
        }
        return true
    }

    private func currentStatus() -> Int {
        var code = 0
        _ = cshims_curl_easy_getinfo_long(easy.library.api, easy.handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func body() -> [UInt8] {
        if bodyChunks.count == 1 { return bodyChunks[0] }
        var body: [UInt8] = []
        body.reserveCapacity(bodyChunks.reduce(0) { $0 + $1.count })
        for chunk in bodyChunks { body += chunk }
        return body
    }

    /// The outcome once libcurl reports `code` for this transfer.
    func finish(_ code: CURLcode) -> Result<HTTPResponse, TransportError> {
        // The upload is over either way: stop the producer now rather than when this is freed.
        let bodyFailure = bodyStream?.failure
        bodyStream?.close()
        if isCancelled {
            return .failure(TransportError(code: .cancelled, message: "request cancelled"))
        }
        if let bodyFailure {
            return .failure(TransportError(bodyFailure: bodyFailure))
        }
        if replyTooLarge {
            return .failure(
                TransportError(
                    code: .replyTooLarge,
                    message:
                        "the reply body exceeded \(CurlTransfer.maximumBufferedReply / (1024 * 1024)) MiB, the most a buffered reply may hold"
                ))
        }
        if code == CURLE_WRITE_ERROR && sink != nil {
            // The sink asked to stop: a normal end for a followed stream.
            return .success(HTTPResponse(status: currentStatus(), headers: headerLines, body: body()))
        }
        guard code == CURLE_OK else {
            return .failure(TransportError(curlCode: code, detail: String(cString: errorBuffer)))
        }
        return .success(HTTPResponse(status: currentStatus(), headers: headerLines, body: body()))
    }

    /// Runs the transfer on the calling thread (`curl_easy_perform`).
    func perform() -> Result<HTTPResponse, TransportError> {
        finish(cshims_curl_easy_perform(easy.library.api, easy.handle))
    }
}

private func curlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    deliver(data, size * count, userdata) { $0.receive($1) }
}

private func curlReadCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let data, let userdata else { return Int(CURL_READFUNC_ABORT) }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.sendBody(UnsafeMutableRawBufferPointer(start: data, count: size * count))
}

private func curlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    deliver(data, size * count, userdata) { $0.receiveHeader($1) }
}

/// Hands a callback's bytes to the transfer behind `userdata`; returning less than `length`
/// tells libcurl to abort.
private func deliver(
    _ data: UnsafeMutablePointer<CChar>?, _ length: Int, _ userdata: UnsafeMutableRawPointer?,
    _ handler: (CurlTransfer, UnsafeRawBufferPointer) -> Bool
) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : length)
    return handler(transfer, bytes) ? length : 0
}
