import CShims

/// A raw, bidirectional byte stream to the engine, obtained by upgrading an HTTP request
/// (`Connection: Upgrade`, `Upgrade: tcp`, reply `101 UPGRADED`) — what exec start and attach use.
///
/// Driven through libcurl rather than a hand-made socket: `CURLOPT_CONNECT_ONLY` makes
/// `curl_easy_perform` only connect (to the Unix socket, or over TCP with TLS), after which `curl_easy_send` and
/// `curl_easy_recv` move raw bytes and `CURLINFO_ACTIVESOCKET` gives the descriptor to poll. Over
/// TLS the same calls encrypt and decrypt; as OpenSSL may hold decrypted bytes that the socket no
/// longer shows as readable, `wait` drains libcurl before it polls the socket. libcurl
/// itself has no API for HTTP upgrades to arbitrary protocols, so the request line and headers are
/// written by hand and the reply's header is parsed here; bytes after it belong to the stream.
/// Not thread-safe: one reader and one writer on the same thread, or external ordering.
public final class HijackedConnection {
    /// How long setting up the connection may take, in seconds: connecting, sending the request
    /// and waiting for the engine's `101 UPGRADED`. The engine answers exec start and attach
    /// within moments; one that says nothing for this long is stuck, and without a bound every
    /// `ccdk exec` and agent window's shell would hang with it. Matches the connect and ping bounds
    /// of the other requests in spirit: long enough for a loaded machine, short enough to notice.
    /// Once the stream runs there is no timeout: an interactive session may sit idle for days.
    public static let defaultSetupTimeout: Double = 30

    private let easy: CurlEasy
    /// While the connection is set up, when waiting for the socket gives up; nil once streaming.
    private var setupDeadline: ContinuousClock.Instant?
    /// What is being set up, for the timeout's message.
    private var setupOperation = ""
    private var setupTimeout: Double = 0
    /// The connected socket, for poll(2).
    public let socket: Int32
    /// Stream bytes that arrived together with the reply header, or that `wait` read ahead.
    private var leftover: [UInt8]
    private var writeClosed = false
    /// Whether the connection is TLS: then libcurl may hold decrypted input the socket does not show.
    private let decryptsInput: Bool
    /// Over TLS, whether the last read returned data (so more may wait in OpenSSL's buffer).
    private var mayHoldDecryptedInput = false
    /// What a read ahead in `wait` ended with: the end of the stream (nil) or a failure, handed
    /// out by the next `receive` after `leftover`.
    private var readAheadEnd: Result<Void, TransportError>?

    /// Connects to `endpoint` through `library`, sends `method path` with `body` as an upgrade
    /// request, and waits for the engine to switch protocols.
    /// - Parameter setupTimeout: seconds the whole setup may take (see `defaultSetupTimeout`).
    /// - Throws: `TransportError` when the connection fails or the setup times out (`.timedOut`);
    ///   `EngineError` with the engine's message when it answers with an error status instead of 101.
    init(
        endpoint: CurlEndpoint, library: CurlLibrary, method: String, path: String, body: [UInt8]?,
        setupTimeout: Double = HijackedConnection.defaultSetupTimeout
    ) throws {
        easy = try CurlEasy(library: library)
        decryptsInput = endpoint.tls != nil
        self.setupTimeout = setupTimeout
        setupOperation = "\(method) \(path)"
        setupDeadline = .now + .milliseconds(Int(max(setupTimeout, 0.001) * 1000))
        let handle = easy.handle
        let api = library.api
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        func check(_ code: CURLcode) throws(TransportError) {
            if code != CURLE_OK { throw TransportError(curlCode: code, detail: nil) }
        }
        try endpoint.apply(to: handle, of: library)
        try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_URL, endpoint.baseURL + "/"))
        try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_CONNECT_ONLY, 1))
        try check(cshims_curl_easy_setopt_long(api, handle, CURLOPT_NOSIGNAL, 1))
        try check(
            cshims_curl_easy_setopt_long(api, handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(setupTimeout * 1000))))
        // Connecting (and, over TLS, the handshake) reports its details in the error buffer, which
        // must outlive the call; it is cleared again before the buffer goes.
        try errorBuffer.withUnsafeMutableBufferPointer { buffer throws(TransportError) in
            try check(cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_ERRORBUFFER, buffer.baseAddress))
            let code = cshims_curl_easy_perform(api, handle)
            _ = cshims_curl_easy_setopt_ptr(api, handle, CURLOPT_ERRORBUFFER, nil)
            if code != CURLE_OK { throw TransportError(curlCode: code, detail: String(cString: buffer.baseAddress!)) }
        }
        var fd: curl_socket_t = -1
        try check(cshims_curl_easy_getinfo_socket(api, handle, &fd))
        guard fd >= 0 else {
            throw TransportError(code: .other, message: "libcurl reported no socket after connecting")
        }
        socket = fd
        leftover = []

        var request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
        if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        request += "\r\n"
        try send(Array(request.utf8) + (body ?? []))

        // Read up to the end of the reply header; what follows is stream data.
        var received: [UInt8] = []
        let terminator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            guard let chunk = try receive(maximum: 4096) else {
                throw TransportError(
                    code: .other, message: "the engine closed the connection before answering \(method) \(path)")
            }
            received += chunk
            headerEnd = HijackedConnection.find(terminator, in: received)
            if headerEnd == nil && received.count > 65_536 {
                throw TransportError(code: .other, message: "no end of the reply header after 64 KiB")
            }
        }
        let header = String(decoding: received[..<headerEnd!], as: UTF8.self)
        leftover = Array(received[(headerEnd! + 4)...])
        let statusLine = header.split(separator: "\r\n").first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            throw EngineError(
                .malformedReply, "not an HTTP reply: \(statusLine.prefix(80))", operation: "\(method) \(path)")
        }
        // 101 is the upgrade; engines that ignore the upgrade answer 200 and stream anyway.
        if status != 101 && status != 200 {
            let message = try readErrorMessage(header: header, status: status)
            throw EngineError(
                EngineError.code(forStatus: status), message, status: status, operation: "\(method) \(path)")
        }
        setupDeadline = nil
    }

    /// How long to wait for the socket next: a second at a time, less when the setup's deadline is
    /// nearer. Throws `.timedOut` once the deadline has passed.
    private func waitMilliseconds() throws(TransportError) -> Int32 {
        guard let deadline = setupDeadline else { return 1000 }
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else {
            let seconds = setupTimeout.rounded() == setupTimeout ? String(Int(setupTimeout)) : String(setupTimeout)
            throw TransportError(
                curlCode: CURLE_OPERATION_TIMEDOUT,
                detail: "timed out after \(seconds) s waiting for the engine to answer \(setupOperation)")
        }
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(min(1000, max(1, milliseconds)))
    }

    /// Reads the rest of an error reply's body (bounded) and extracts the engine's message.
    private func readErrorMessage(header: String, status: Int) throws -> String {
        var body = leftover
        let length =
            header.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingWhitespace()) } ?? body.count
        while body.count < min(length, 65_536), let chunk = try receive(maximum: 4096) { body += chunk }
        if let message = (try? JSONValue.parse(body))?["message"]?.string { return message }
        let text = String(decoding: body, as: UTF8.self).trimmingWhitespaceAndNewlines()
        return text.isEmpty ? "HTTP \(status)" : text
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }

    /// Writes all of `bytes`, waiting for the socket when it is full.
    public func send(_ bytes: [UInt8]) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = bytes.withUnsafeBytes { raw in
                cshims_curl_easy_send(
                    easy.library.api, easy.handle, raw.baseAddress! + offset, raw.count - offset, &sent)
            }
            if code == CURLE_AGAIN {
                var ready: Int32 = 0
                _ = cshims_wait_socket(socket, 0, 1, try waitMilliseconds(), &ready)
                continue
            }
            if code != CURLE_OK { throw TransportError(curlCode: code, detail: nil) }
            offset += sent
        }
    }

    /// Reads what is available, waiting until something is; nil at the end of the stream.
    public func receive(maximum: Int = 65_536) throws(TransportError) -> [UInt8]? {
        if !leftover.isEmpty {
            defer { leftover = [] }
            return leftover
        }
        if let end = readAheadEnd {
            readAheadEnd = nil
            try end.get()
            return nil
        }
        while true {
            switch try receiveNow(maximum: maximum) {
            case .bytes(let bytes): return bytes
            case .end: return nil
            case .wouldBlock:
                var ready: Int32 = 0
                _ = cshims_wait_socket(socket, 1, 0, try waitMilliseconds(), &ready)
            }
        }
    }

    private enum Read {
        case bytes([UInt8])
        case end
        case wouldBlock
    }

    /// One curl_easy_recv, without waiting.
    private func receiveNow(maximum: Int) throws(TransportError) -> Read {
        var buffer = [UInt8](repeating: 0, count: maximum)
        var received = 0
        let code = buffer.withUnsafeMutableBytes { raw in
            cshims_curl_easy_recv(easy.library.api, easy.handle, raw.baseAddress!, raw.count, &received)
        }
        if code == CURLE_AGAIN {
            mayHoldDecryptedInput = false
            return .wouldBlock
        }
        if code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_RECV_ERROR && received == 0 {
            return .end  // the peer reset the connection: the stream is over
        }
        if code != CURLE_OK { throw TransportError(curlCode: code, detail: nil) }
        if received == 0 { return .end }
        mayHoldDecryptedInput = decryptsInput
        return .bytes(Array(buffer[0..<received]))
    }

    /// Over TLS, after a read that returned data, reads ahead until libcurl says it would block:
    /// decrypted bytes already taken off the socket would otherwise wait, unseen by poll(2), until
    /// more arrived. Returns whether anything (data, the end or a failure) is now held for `receive`.
    private func readAhead() -> Bool {
        guard mayHoldDecryptedInput, leftover.isEmpty, readAheadEnd == nil else { return false }
        do {
            switch try receiveNow(maximum: 65_536) {
            case .bytes(let bytes):
                leftover = bytes
                return true
            case .end:
                readAheadEnd = .success(())
                return true
            case .wouldBlock:
                return false
            }
        } catch {
            readAheadEnd = .failure(error)
            return true
        }
    }

    /// Whether bytes are waiting that poll(2) would not report: received with the header, or read
    /// ahead of the socket (see `wait`).
    public var hasBufferedInput: Bool { !leftover.isEmpty || readAheadEnd != nil }

    /// Half-closes the connection: the remote process sees end of input, output still arrives.
    public func closeWrite() {
        guard !writeClosed else { return }
        writeClosed = true
        _ = cshims_shutdown_write(socket)
    }

    /// Waits until `terminal` (or -1 for none) has input, or the connection has input or, when
    /// `wantWrite`, room for output.
    public func wait(
        terminal: Int32, wantWrite: Bool, timeoutMilliseconds: Int32
    ) -> (terminal: Bool, readable: Bool, writable: Bool) {
        if hasBufferedInput || readAhead() { return (false, true, false) }
        var terminalReady: Int32 = 0
        var connectionReady: Int32 = 0
        _ = cshims_wait_two(
            terminal, 1, socket, wantWrite ? 3 : 1, timeoutMilliseconds, &terminalReady, &connectionReady)
        return (terminalReady != 0, connectionReady & 5 != 0, connectionReady & 2 != 0)
    }

    /// Writes what the socket takes now without waiting; returns how many bytes were sent.
    public func sendAvailable(_ bytes: ArraySlice<UInt8>) throws(TransportError) -> Int {
        var sent = 0
        let code = bytes.withUnsafeBytes { raw in
            cshims_curl_easy_send(easy.library.api, easy.handle, raw.baseAddress!, raw.count, &sent)
        }
        if code == CURLE_AGAIN { return 0 }
        if code != CURLE_OK { throw TransportError(curlCode: code, detail: nil) }
        return sent
    }
}
