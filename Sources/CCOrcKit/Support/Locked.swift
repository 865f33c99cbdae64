import Synchronization

/// A value guarded by a lock, for state shared between threads.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched while `mutex` is held. The value lives beside the mutex
    // rather than in it: `Mutex.withLock` wants a `sending` result and typed throws, which a
    // `rethrows` method over any value cannot give it.
    private let mutex = Mutex(())
    private var value: Value

    /// Guards `value`.
    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, holding the lock.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        mutex._unsafeLock()
        defer { mutex._unsafeUnlock() }
        return try body(&value)
    }
}
