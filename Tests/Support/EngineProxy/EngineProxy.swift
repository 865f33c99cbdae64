import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A Unix-socket proxy between a client and the engine that records every HTTP request passing
/// through it: point the client's `DOCKER_HOST` at `socketPath`. The integration tests count the
/// requests in flight with it, the watch benchmark the requests and engine events a client costs.
///
/// A request is in flight from the moment its first byte reaches the proxy until the last byte of
/// its response has come back from the engine (it is recorded as over before those bytes are
/// passed on). Both ends lie inside the client's own request, so the proxy never counts more in
/// flight than the client had, and a streaming request (`GET /events`) counts once, when it starts.
/// Responses are relayed read by read as the engine writes them, never buffered. One thread polls
/// every socket and records the events in the order it sees them. Writes block: fine for the small
/// bodies and slow streams of the clients measured.
public final class EngineProxy: @unchecked Sendable {
    /// One request seen by the proxy.
    public struct Request: Sendable {
        /// The request line's method and target (empty until the head has arrived).
        public var method: String
        public var path: String
        /// Positions in the event order: when the request began and when its response ended (nil
        /// while it is still in flight).
        public var began: Int
        public var ended: Int?
        /// When its first byte arrived (`DispatchTime` nanoseconds).
        public var beganAt: UInt64
        /// The response's status, once its head has come back.
        public var status: Int?
    }

    /// What went through the proxy.
    public struct Traffic: Sendable {
        /// Every request, in the order they began.
        public var requests: [Request] = []
        /// Requests that began on a connection whose previous request was still unanswered.
        public var pipelined = 0
        /// Engine events relayed on `/events` responses (one JSON object a line).
        public var eventLines = 0
        /// Those of them relayed on responses to requests whose filters name volumes.
        public var volumeEventLines = 0

        /// The most requests in flight at once, counted from the beginning of the first request
        /// that `from` accepts (all requests when it is nil); requests that began earlier count
        /// while they are still in flight.
        public func maxInFlight(from: ((Request) -> Bool)? = nil) -> Int {
            let start = from.map { accepts in requests.filter(accepts).map(\.began).min() ?? Int.max } ?? 0
            var deltas: [(position: Int, delta: Int)] = []
            for request in requests {
                deltas.append((request.began, 1))
                if let ended = request.ended { deltas.append((ended, -1)) }
            }
            var inFlight = 0
            var most = 0
            for (position, delta) in deltas.sorted(by: { $0.position < $1.position }) {
                inFlight += delta
                if position >= start { most = max(most, inFlight) }
            }
            return most
        }
    }

    /// The proxy's own failure to start, with the call and errno text that caused it.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The socket clients connect to (for `DOCKER_HOST=unix://…`).
    public let socketPath: String
    private let upstreamPath: String
    private let listener: Int32
    private let wakePipe: (read: Int32, write: Int32)
    private let log = Mutex(Traffic())
    private let finished = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)
    private let refusingConnections = Mutex(false)
    /// Positions in the event order; only the proxy thread advances it.
    private var clock = 0

    /// Listens on `socketPath` (replacing whatever is there) and forwards each connection to the
    /// engine socket `upstream`.
    /// - Parameter socketPath: where to listen; nil for a fresh path under /tmp. The caller
    ///   removes it should the process die before `stop()`.
    /// - Throws: `Failure` when the socket cannot be bound or the wake-up pipe made.
    public init(socketPath: String? = nil, upstream: String) throws {
        upstreamPath = upstream
        let path = socketPath ?? "/tmp/ccorc-proxy-\(getpid())-\(UInt32.random(in: 0..<UInt32.max)).sock"
        unlink(path)
        // Close-on-exec everywhere: a program the caller starts must not hold the proxy's sockets open.
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0, Self.withAddress(path, { bind(listener, $0, $1) }) == 0, listen(listener, 128) == 0 else {
            let message = String(cString: strerror(errno))
            if listener >= 0 { close(listener) }
            throw Failure(description: "the engine proxy cannot listen on \(path): \(message)")
        }
        self.socketPath = path
        self.listener = listener
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            let message = String(cString: strerror(errno))
            close(listener)
            unlink(path)
            throw Failure(description: "the engine proxy cannot make its pipe: \(message)")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "engine-proxy"
        thread.start()
    }

    /// Stops forwarding, closes every connection and removes the socket; a second call does nothing.
    public func stop() {
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
    public func traffic() -> Traffic { log.withLock { $0 } }

    /// Closes every connection open now, as an engine restart would; with `refusing`, new
    /// connections are closed as soon as they are accepted until `refusing` is set false again.
    public func dropConnections(refusing: Bool = false) {
        self.refusing = refusing
        _ = write(wakePipe.write, "d", 1)
    }

    /// Whether new connections are closed at once (see `dropConnections`).
    public var refusing: Bool {
        get { refusingConnections.withLock { $0 } }
        set { refusingConnections.withLock { $0 = newValue } }
    }

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

        /// A connection over the accepted `client` socket and the one made to the engine.
        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }
    }

    /// Polls the wake-up pipe, the listener and both ends of every connection until `stop()`;
    /// a `d` on the pipe drops every connection instead.
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
            if fds[0].revents != 0 {
                var byte: UInt8 = 0
                _ = read(wakePipe.read, &byte, 1)
                guard byte == UInt8(ascii: "d") else { break }
                for connection in connections {
                    endUnanswered(connection)
                    close(connection.client)
                    close(connection.upstream)
                }
                connections = []
                continue
            }
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
            endUnanswered(connection)
            close(connection.client)
            close(connection.upstream)
        }
    }

    /// Accepts a client and connects it to the engine; nil when refusing or the engine is unreachable
    /// (the client then sees its connection closed).
    private func accept() -> Connection? {
        let client = Glibc.accept(listener, nil, nil)
        guard client >= 0 else { return nil }
        if refusing {
            close(client)
            return nil
        }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0, Self.withAddress(upstreamPath, { connect(upstream, $0, $1) }) == 0 else {
            close(client)
            if upstream >= 0 { close(upstream) }
            return nil
        }
        return Connection(client: client, upstream: upstream)
    }

    /// Relays one read from the client to the engine, logging each request as its first byte and
    /// then its head arrive.
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
                clock += 1
                let request = Request(
                    method: "", path: "", began: clock, ended: nil, beganAt: DispatchTime.now().uptimeNanoseconds)
                log.withLock { log in
                    if !connection.unanswered.isEmpty { log.pipelined += 1 }
                    log.requests.append(request)
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

    /// Relays one read from the engine to the client, counting the event lines of an `/events`
    /// response and logging each response's status and end.
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
        countEventLines(bytes, on: connection)
        connection.responses.feed(
            bytes,
            decide: { head in
                let method =
                    connection.unanswered.first.map { index in log.withLock { $0.requests[index].method } } ?? ""
                return head.responseBody(toMethod: method)
            }
        ) { event in
            guard let index = connection.unanswered.first else { return }
            switch event {
            case .began:
                break
            case .head(let head):
                log.withLock { $0.requests[index].status = head.status }
            case .ended:
                connection.unanswered.removeFirst()
                clock += 1
                let ended = clock
                log.withLock { $0.requests[index].ended = ended }
            }
        }
        if !Self.writeAll(connection.client, bytes) { connection.clientOpen = false }
    }

    /// Counts the engine events in `bytes` when they answer an `/events` request (the oldest
    /// unanswered on `connection`), and those on a request whose path names volumes apart.
    private func countEventLines(_ bytes: ArraySlice<UInt8>, on connection: Connection) {
        defer { connection.lastByte = bytes.last ?? 0 }
        let path = connection.unanswered.first.map { index in log.withLock { $0.requests[index].path } } ?? ""
        guard path.contains("/events") else { return }
        // The engine writes each event as one JSON object and a newline; chunk framing ends its
        // lines with \r\n, so `}\n` is an event's end.
        var events = 0
        var previous = connection.lastByte
        for byte in bytes {
            if byte == 10 && previous == 125 { events += 1 }
            previous = byte
        }
        guard events > 0 else { return }
        log.withLock { log in
            log.eventLines += events
            if path.contains("volume") { log.volumeEventLines += events }
        }
    }

    /// Records every request still unanswered on `connection` as over, in order.
    private func endUnanswered(_ connection: Connection) {
        for index in connection.unanswered {
            clock += 1
            let ended = clock
            log.withLock { $0.requests[index].ended = ended }
        }
        connection.unanswered = []
    }

    /// Sends all of `bytes` on `fd`; false when the peer has gone.
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

    /// Calls `body` with `path` as a Unix socket address; -1 when the path is too long for one.
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
