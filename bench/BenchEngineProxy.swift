import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A Unix-socket proxy between a client and the engine that counts the HTTP requests passing
/// through it: point the client's `DOCKER_HOST` at `socketPath`.
///
/// The logic is `Tests/IntegrationTests/CountingEngineProxy.swift`'s (the bench cannot import a
/// test target), reduced to what the watch suite needs: a request is counted when its first byte
/// arrives, so a streaming request (`GET /events`) counts once, when it starts, and its response is
/// relayed chunk by chunk as the engine writes it, never buffered. One thread polls every socket;
/// writes block, which is fine for the small bodies and slow streams of the clients measured.
final class BenchEngineProxy: @unchecked Sendable {
    /// One request seen by the proxy.
    struct Request: Sendable {
        var method: String
        var path: String
        /// When its first byte arrived (`DispatchTime` nanoseconds).
        var began: UInt64
        /// Whether its response has ended.
        var ended: Bool
    }

    /// What went through so far.
    struct Traffic: Sendable {
        var requests: [Request] = []
        /// Engine events relayed on `/events` responses (one JSON object a line).
        var eventLines = 0
        /// Those of them relayed on responses to requests whose filters name volumes.
        var volumeEventLines = 0
    }

    /// The socket clients connect to.
    let socketPath: String
    private let upstreamPath: String
    private let listener: Int32
    private let wakePipe: (read: Int32, write: Int32)
    private let log = Mutex(Traffic())
    private let finished = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)

    /// Listens on `socketPath` (registered for removal) and forwards each connection to `upstream`.
    init(socketPath path: String, upstream: String) throws {
        upstreamPath = upstream
        BenchResources.shared.registerPath(path)
        unlink(path)
        // Close-on-exec everywhere: a program the bench starts must not hold the proxy's sockets open.
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0, Self.withAddress(path, { bind(listener, $0, $1) }) == 0, listen(listener, 128) == 0 else {
            let message = String(cString: strerror(errno))
            if listener >= 0 { close(listener) }
            throw CommandFailed(description: "the counting proxy cannot listen on \(path): \(message)")
        }
        socketPath = path
        self.listener = listener
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(listener)
            throw CommandFailed(description: "pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "bench-engine-proxy"
        thread.start()
    }

    /// Stops forwarding, closes every connection and removes the socket; a second call does nothing.
    func stop() {
        guard
            stopped.withLock({ stopped in
                defer { stopped = true }
                return !stopped
            })
        else { return }
        _ = write(wakePipe.write, "x", 1)
        finished.wait()
        close(wakePipe.read)
        close(wakePipe.write)
        close(listener)
        unlink(socketPath)
    }

    /// What went through so far.
    func traffic() -> Traffic { log.withLock { $0 } }

    /// Requests begun so far.
    var requestCount: Int { log.withLock { $0.requests.count } }

    // MARK: - The proxy thread

    /// One client connection and its own connection to the engine.
    private final class Connection {
        let client: Int32
        let upstream: Int32
        var requests = HTTPScanner(kind: .request)
        var responses = HTTPScanner(kind: .response)
        /// Indices in the log of the requests sent on this connection and not yet answered.
        var unanswered: [Int] = []
        var clientOpen = true
        var upstreamOpen = true
        /// The last byte relayed from the engine, to find a `}\n` split across two reads.
        var lastByte: UInt8 = 0

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }
    }

    private func loop() {
        var connections: [Connection] = []
        while true {
            var fds = [
                pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
            ]
            for connection in connections {
                fds.append(
                    pollfd(fd: connection.clientOpen ? connection.client : -1, events: Int16(POLLIN), revents: 0))
                fds.append(
                    pollfd(fd: connection.upstreamOpen ? connection.upstream : -1, events: Int16(POLLIN), revents: 0))
            }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { break }
            if fds[0].revents != 0 { break }
            let ready = fds
            for (index, connection) in connections.enumerated() {
                if ready[2 + 2 * index].revents != 0 { fromClient(connection) }
                if ready[3 + 2 * index].revents != 0 { fromUpstream(connection) }
            }
            connections.removeAll { connection in
                guard !connection.clientOpen && !connection.upstreamOpen else { return false }
                close(connection.client)
                close(connection.upstream)
                return true
            }
            if ready[1].revents != 0 { accept().map { connections.append($0) } }
        }
        for connection in connections {
            close(connection.client)
            close(connection.upstream)
        }
    }

    private func accept() -> Connection? {
        let client = Glibc.accept(listener, nil, nil)
        guard client >= 0 else { return nil }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0, Self.withAddress(upstreamPath, { connect(upstream, $0, $1) }) == 0 else {
            close(client)
            if upstream >= 0 { close(upstream) }
            return nil
        }
        return Connection(client: client, upstream: upstream)
    }

    private func fromClient(_ connection: Connection) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(connection.client, &buffer, buffer.count)
        guard count > 0 else {
            connection.clientOpen = false
            shutdown(connection.upstream, Int32(SHUT_WR))
            return
        }
        let bytes = buffer[..<count]
        connection.requests.feed(bytes, decide: { head in head.requestBody }) { event in
            switch event {
            case .began:
                let began = DispatchTime.now().uptimeNanoseconds
                log.withLock { log in
                    log.requests.append(Request(method: "", path: "", began: began, ended: false))
                    connection.unanswered.append(log.requests.count - 1)
                }
            case .head(let head):
                log.withLock { log in
                    if let index = connection.unanswered.last {
                        log.requests[index].method = head.method
                        log.requests[index].path = head.target
                    }
                }
            case .ended:
                break
            }
        }
        if !Self.writeAll(connection.upstream, bytes) { connection.upstreamOpen = false }
    }

    private func fromUpstream(_ connection: Connection) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(connection.upstream, &buffer, buffer.count)
        guard count > 0 else {
            // A response that runs until the connection closes ends here, and so does the
            // connection's every unanswered request.
            endUnanswered(connection)
            connection.upstreamOpen = false
            shutdown(connection.client, Int32(SHUT_WR))
            return
        }
        let bytes = buffer[..<count]
        let path = connection.unanswered.first.map { index in log.withLock { $0.requests[index].path } } ?? ""
        if path.contains("/events") {
            // The engine writes each event as one JSON object and a newline; chunk framing ends
            // its lines with \r\n, so `}\n` is an event's end.
            var events = 0
            var previous = connection.lastByte
            for byte in bytes {
                if byte == 10 && previous == 125 { events += 1 }
                previous = byte
            }
            if events > 0 {
                log.withLock { log in
                    log.eventLines += events
                    if path.contains("volume") { log.volumeEventLines += events }
                }
            }
        }
        connection.lastByte = bytes.last ?? 0
        connection.responses.feed(
            bytes,
            decide: { head in
                let method =
                    connection.unanswered.first.map { index in log.withLock { $0.requests[index].method } } ?? ""
                return head.responseBody(toMethod: method)
            }
        ) { event in
            guard let index = connection.unanswered.first else { return }
            if case .ended = event {
                connection.unanswered.removeFirst()
                log.withLock { $0.requests[index].ended = true }
            }
        }
        if !Self.writeAll(connection.client, bytes) { connection.clientOpen = false }
    }

    private func endUnanswered(_ connection: Connection) {
        log.withLock { log in
            for index in connection.unanswered { log.requests[index].ended = true }
        }
        connection.unanswered = []
    }

    private static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return -1 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

/// Finds where HTTP/1.1 messages begin and end in a byte stream, one direction of a connection,
/// without keeping their bodies (as the integration tests' proxy does).
struct HTTPScanner {
    enum Kind { case request, response }

    /// A message's start line and headers.
    struct Head {
        /// Request: method and target; response: the status code.
        var method = "", target = "", status = 0
        /// Header values by lower-cased name.
        var headers: [String: String] = [:]

        init(_ bytes: [UInt8], kind: Kind) {
            let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
            let start = lines.first?.split(separator: " ", maxSplits: 2).map(String.init) ?? []
            switch kind {
            case .request:
                method = start.first ?? ""
                target = start.count > 1 ? start[1] : ""
            case .response:
                status = start.count > 1 ? Int(start[1]) ?? 0 : 0
            }
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
        }

        private var framedBody: Body {
            if headers["transfer-encoding"]?.lowercased().contains("chunked") == true { return .chunked }
            if let length = headers["content-length"].flatMap({ Int($0) }) { return .length(length) }
            return .none
        }

        /// How a request's body is framed (none without a length or chunking).
        var requestBody: Body { framedBody }

        /// How a response to a `method` request is framed (RFC 9112 section 6.3).
        func responseBody(toMethod method: String) -> Body {
            if status == 101 { return .tunnel }
            if (100..<200).contains(status) { return .interim }
            if method == "HEAD" || status == 204 || status == 304 { return .none }
            let framed = framedBody
            if case .none = framed { return .untilClose }
            return framed
        }
    }

    /// How a message's body is delimited.
    enum Body {
        case none
        case length(Int)
        case chunked, untilClose
        /// A 1xx response: another head follows for the same request.
        case interim
        /// A 101 response: the connection carries something else from now on.
        case tunnel
    }

    enum Event {
        /// The first byte of a message arrived.
        case began
        /// Its head is complete.
        case head(Head)
        /// Its last byte arrived.
        case ended
    }

    private enum Phase {
        case idle, head
        case body(Int)
        case chunkSize
        case chunkData(Int)
        case chunkEnd, trailers, untilClose, tunnel
    }

    let kind: Kind
    private var phase = Phase.idle
    private var line: [UInt8] = []

    init(kind: Kind) { self.kind = kind }

    /// Scans `bytes`, reporting events in order; `decide` says how the body of a head is framed.
    mutating func feed(_ bytes: ArraySlice<UInt8>, decide: (Head) -> Body, _ report: (Event) -> Void) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch phase {
            case .idle:
                report(.began)
                phase = .head
            case .head:
                line.append(bytes[index])
                index += 1
                guard line.count >= 4, line.suffix(4).elementsEqual([13, 10, 13, 10]) else { continue }
                let head = Head(line, kind: kind)
                line = []
                report(.head(head))
                switch decide(head) {
                case .none: finish(report)
                case .length(let length): if length > 0 { phase = .body(length) } else { finish(report) }
                case .chunked: phase = .chunkSize
                case .untilClose: phase = .untilClose
                case .interim: phase = .head
                case .tunnel:
                    report(.ended)
                    phase = .tunnel
                }
            case .body(let left):
                let taken = min(left, bytes.endIndex - index)
                index += taken
                if taken == left { finish(report) } else { phase = .body(left - taken) }
            case .chunkSize, .chunkEnd, .trailers:
                line.append(bytes[index])
                index += 1
                guard line.last == 10 else { continue }
                let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                line = []
                if case .chunkSize = phase {
                    let size = Int(text.split(separator: ";").first.map(String.init) ?? "", radix: 16) ?? 0
                    phase = size == 0 ? .trailers : .chunkData(size)
                } else if case .chunkEnd = phase {
                    phase = .chunkSize
                } else if text.isEmpty {
                    finish(report)
                }
            case .chunkData(let left):
                let taken = min(left, bytes.endIndex - index)
                index += taken
                phase = taken == left ? .chunkEnd : .chunkData(left - taken)
            case .untilClose, .tunnel:
                index = bytes.endIndex
            }
        }
    }

    private mutating func finish(_ report: (Event) -> Void) {
        report(.ended)
        phase = .idle
    }
}
