/// A bounded queue of byte chunks between one writer thread and one reader thread, for relaying
/// a streamed reply into a streamed request body: the writer waits while `limit` bytes are
/// queued, so memory stays bounded however long the stream is.
///
/// Either side can end the relay: the writer with `finish()` or `fail(_:)`, the reader with
/// `close()` (after which `write` returns false, so the writer's transfer stops).
final class ChunkPipe: @unchecked Sendable {
    // @unchecked: every field is under `condition`.
    private let condition = ConditionLock()
    private let limit: Int
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var queued = 0
    private var finished = false
    private var failure: (any Error)?
    private var closed = false

    /// A pipe that holds at most about `limit` bytes (one chunk more when a chunk is larger).
    init(limit: Int) {
        self.limit = max(limit, 1)
    }

    /// Queues `chunk`, waiting while the pipe is full; false once the reader closed the pipe.
    func write(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queued >= limit && !closed { condition.wait() }
        guard !closed else { return false }
        if !chunk.isEmpty {
            chunks.append(chunk)
            queued += chunk.count
            condition.broadcast()
        }
        return true
    }

    /// Marks the end of the stream: `read` returns nil once the queue is empty.
    func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    /// Ends the stream with `error`: the next `read` throws it.
    func fail(_ error: any Error) {
        condition.withLock {
            failure = error
            condition.broadcast()
        }
    }

    /// The next chunk, waiting for one; nil at the end of the stream or once the pipe is closed.
    /// - Throws: what the writer passed to `fail`.
    func read() throws -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure { throw failure }
            if closed { return nil }
            if head < chunks.count {
                let chunk = chunks[head]
                head += 1
                queued -= chunk.count
                if head == chunks.count {
                    chunks.removeAll(keepingCapacity: true)
                    head = 0
                }
                condition.broadcast()
                return chunk
            }
            if finished { return nil }
            condition.wait()
        }
    }

    /// Stops the relay from the reading side: drops what is queued, and the writer's next (or
    /// current) `write` returns false.
    func close() {
        condition.withLock {
            closed = true
            chunks.removeAll()
            head = 0
            queued = 0
            condition.broadcast()
        }
    }
}
