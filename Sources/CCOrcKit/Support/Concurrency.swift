import Synchronization

/// Runs `body` for each item with at most `width` in flight and returns each item's error (nil on
/// success), in the order of `items`. Bulk operations use it to fan out over the engine client's
/// concurrent requests.
public func forEachConcurrently<Item: Sendable>(
    _ items: [Item], width: Int = 16, _ body: @escaping @Sendable (Item) async throws -> Void
) async -> [(item: Item, error: Error?)] {
    await withTaskGroup(of: (Int, Error?).self) { group in
        var results: [(item: Item, error: Error?)] = items.map { ($0, nil) }
        var next = 0
        func launch() {
            let index = next
            let item = items[index]
            group.addTask {
                do {
                    try await body(item)
                    return (index, nil)
                } catch {
                    return (index, error)
                }
            }
            next += 1
        }
        while next < items.count && next < max(1, width) { launch() }
        for await (index, error) in group {
            results[index].error = error
            if next < items.count { launch() }
        }
        return results
    }
}

/// Runs `body` for every item, at most `width` at once, and returns each item's result in the
/// order given.
public func mapConcurrently<Item: Sendable, Value: Sendable>(
    _ items: [Item], width: Int = 16, _ body: @escaping @Sendable (Item) async throws -> Value
) async -> [(item: Item, result: Result<Value, Error>)] {
    let values = Mutex<[Int: Value]>([:])
    let indexed = Array(items.enumerated())
    let outcomes = await forEachConcurrently(indexed, width: width) { index, item in
        let value = try await body(item)
        values.withLock { $0[index] = value }
    }
    let collected = values.withLock { $0 }
    return outcomes.map { outcome in
        let (index, item) = outcome.item
        if let error = outcome.error { return (item, .failure(error)) }
        return (item, .success(collected[index]!))
    }
}

/// Lets at most `width` async operations run at once; the others wait their turn, lowest
/// `priority` first and in arrival order among equals. Bulk operations share one across many
/// tasks, so that the engine sees a fixed number of requests in flight however the work is
/// grouped, and the earliest item's requests go first, so items finish one after another.
///
/// Waiting ignores task cancellation: a cancelled task keeps its place, gets its slot in turn and
/// runs `body`, which sees `Task.isCancelled` and decides for itself. Cleanup stops through its
/// own `CleanupControl`, checked inside the slot, rather than through cancellation.
final class AsyncLimiter: Sendable {
    private struct Waiter {
        var priority: Int
        var continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        var available: Int
        var waiters: [Waiter] = []
    }
    private let state: Mutex<State>

    /// A limiter of `width` slots; 0 or less means 1.
    init(width: Int) {
        state = Mutex(State(available: max(1, width)))
    }

    /// How many callers are waiting for a slot (for tests and diagnostics).
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Runs `body` in a slot, waiting for one first.
    func run<Result: Sendable>(priority: Int = 0, _ body: () async throws -> Result) async rethrows -> Result {
        await acquire(priority: priority)
        defer { release() }
        return try await body()
    }

    private func acquire(priority: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                let position = state.waiters.lastIndex { $0.priority <= priority }.map { $0 + 1 } ?? 0
                state.waiters.insert(Waiter(priority: priority, continuation: continuation), at: position)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}

/// Asks a running operation to stop at its next step (Ctrl-C): a cleanup issues no new engine
/// request, a launch undoes what it made. Work in flight finishes first.
public final class StopControl: Sendable {
    private let stopped = Mutex(false)
    private let condition: (@Sendable () -> Bool)?

    /// A control that has not been stopped.
    public init() { condition = nil }

    /// A control also stopped whenever `condition` holds: a flag a signal handler sets, say, so
    /// that the stop takes effect the moment the signal arrives. `condition` must be cheap.
    public init(stoppedWhen condition: @escaping @Sendable () -> Bool) { self.condition = condition }

    /// Asks the operation to stop.
    public func stop() { stopped.withLock { $0 = true } }

    /// Whether `stop` was called (or the condition holds).
    public var isStopped: Bool { stopped.withLock { $0 } || condition?() == true }
}
