/// What a request sends as its body.
public enum HTTPRequestBody: Sendable {
    /// Bytes held in memory, sent with a `Content-Length`.
    case bytes([UInt8])
    /// Bytes made while they are sent, with `Transfer-Encoding: chunked`.
    case stream(HTTPBodyStream)
}

/// A request body made piece by piece while it is uploaded, so that it is never whole in memory.
///
/// A producer thread calls `produce` for one piece after another and keeps at most about
/// `bufferLimit` bytes waiting; libcurl's read callback takes them from there. The callback never
/// waits for the producer on the shared multi loop (it pauses the upload instead, and the producer
/// wakes the loop when a piece is ready), so slow disks do not hold up other transfers. A stream is
/// sent once; when the transfer ends, for any reason, the producer stops.
///
/// When `produce` throws, the upload is aborted (the engine sees the connection close before the
/// body's end and keeps nothing) and the request fails with that error.
public final class HTTPBodyStream: @unchecked Sendable {
    // @unchecked: `produce` runs only on the producer thread; everything else is under `condition`.

    /// The default bound on bytes made but not yet sent.
    public static let defaultBufferLimit = 4 << 20

    /// What `read` gave libcurl.
    enum ReadOutcome: Equatable {
        /// This many bytes were copied.
        case bytes(Int)
        /// The body is complete.
        case end
        /// Nothing is ready yet; `whenReady` will be called once something is.
        case pending
        /// The producer failed (see `failure`) or the stream was closed.
        case failed
    }

    private let produce: () throws -> [UInt8]?
    private let bufferLimit: Int
    private let condition = ConditionLock()
    private var chunks: [[UInt8]] = []
    /// How much of `chunks[0]` was already sent.
    private var offset = 0
    private var buffered = 0
    private var ended = false
    private var producerFailure: (any Error)?
    private var closed = false
    private var started = false
    private var whenReady: (@Sendable () -> Void)?

    /// A body whose pieces come from `produce`, called on a thread of its own until it returns nil.
    /// Empty pieces are skipped.
    /// - Parameter bufferLimit: the producer waits while this many bytes are made but unsent.
    public init(bufferLimit: Int = HTTPBodyStream.defaultBufferLimit, produce: @escaping () throws -> [UInt8]?) {
        self.bufferLimit = max(bufferLimit, 1)
        self.produce = produce
    }

    /// What `produce` threw, once it has.
    var failure: (any Error)? {
        condition.withLock { producerFailure }
    }

    /// Starts the producer thread; false when the stream was started before (it is sent once).
    func start() -> Bool {
        let first = condition.withLock { () -> Bool in
            defer { started = true }
            return !started
        }
        guard first else { return false }
        startThread(named: "ccorc-body") { [self] in runProducer() }
        return true
    }

    /// Copies waiting bytes into `buffer` (libcurl's upload buffer).
    /// - Parameters:
    ///   - wait: block until bytes, the end or a failure arrive (for a transfer on its own thread);
    ///     otherwise return `.pending` and call `whenReady` later from the producer thread.
    func read(
        into buffer: UnsafeMutableRawBufferPointer, wait: Bool, whenReady: (@Sendable () -> Void)? = nil
    ) -> ReadOutcome {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if !chunks.isEmpty {
                var copied = 0
                while copied < buffer.count, let head = chunks.first {
                    let count = min(buffer.count - copied, head.count - offset)
                    head.withUnsafeBytes { source in
                        (buffer.baseAddress! + copied).copyMemory(from: source.baseAddress! + offset, byteCount: count)
                    }
                    copied += count
                    offset += count
                    if offset == head.count {
                        buffered -= head.count
                        chunks.removeFirst()
                        offset = 0
                    }
                }
                condition.broadcast()
                return .bytes(copied)
            }
            if producerFailure != nil || closed { return .failed }
            if ended { return .end }
            if wait {
                condition.wait()
            } else {
                self.whenReady = whenReady
                return .pending
            }
        }
    }

    /// Stops the producer (the transfer is over) and drops what it made.
    func close() {
        condition.withLock {
            closed = true
            chunks.removeAll()
            buffered = 0
            whenReady = nil
            condition.broadcast()
        }
    }

    private func runProducer() {
        while true {
            let proceed = condition.withLock { () -> Bool in
                while buffered >= bufferLimit && !closed { condition.wait() }
                return !closed
            }
            guard proceed else { return }
            let piece = Result { try produce() }
            let (wake, done) = condition.withLock { () -> ((@Sendable () -> Void)?, Bool) in
                switch piece {
                case .success(let bytes?):
                    if !bytes.isEmpty && !closed {
                        chunks.append(bytes)
                        buffered += bytes.count
                    }
                case .success(nil): ended = true
                case .failure(let error): producerFailure = error
                }
                condition.broadcast()
                let wake = whenReady
                whenReady = nil
                return (wake, ended || producerFailure != nil || closed)
            }
            wake?()
            if done { return }
        }
    }
}
