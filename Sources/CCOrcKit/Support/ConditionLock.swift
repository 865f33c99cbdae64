import Glibc

/// A lock with a condition to wait on, as `NSCondition` is: a pthread mutex and a pthread
/// condition variable. Waiting releases the lock and takes it again before returning; wake-ups
/// may be spurious, so callers wait in a loop over their own predicate.
public final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are made for use from many threads.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Takes the lock, waiting for it if another thread holds it.
    public func lock() { pthread_mutex_lock(mutex) }

    /// Releases the lock.
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the lock.
    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Releases the lock until another thread calls `broadcast` (or spuriously), then takes it
    /// again. Call only while holding the lock.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Wakes every thread in `wait`.
    public func broadcast() { pthread_cond_broadcast(condition) }
}
