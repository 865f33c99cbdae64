import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

/// Counts the bodies running at once and the most ever seen.
final class Occupancy: Sendable {
    private let counts = Mutex((now: 0, most: 0))

    func enter() {
        counts.withLock {
            $0.now += 1
            $0.most = max($0.most, $0.now)
        }
    }

    func leave() { counts.withLock { $0.now -= 1 } }

    var now: Int { counts.withLock { $0.now } }
    var most: Int { counts.withLock { $0.most } }
}

/// Entries appended by concurrent tasks, in the order they came; a class so that several tasks
/// can share it (a `Mutex` local cannot be sent to more than one).
final class ArrivalLog: Sendable {
    private let entries = Mutex<[String]>([])

    /// Appends `entry`; returns how many times it has now been appended.
    @discardableResult func append(_ entry: String) -> Int {
        entries.withLock { entries in
            entries.append(entry)
            return entries.filter { $0 == entry }.count
        }
    }

    /// Everything appended so far.
    var all: [String] { entries.withLock { $0 } }
}

/// Holds whoever waits on it until it is opened; once open, lets everyone through.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state -> Bool in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Polls `condition` every millisecond until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return condition()
}

@Suite struct AsyncLimiterTests {
    struct Boom: Error {}

    /// `width` bodies run while the rest wait, and no more than `width` ever run, also while
    /// slots change hands; a width of 0 or less is 1.
    @Test(arguments: [(0, 1), (1, 1), (3, 3), (8, 8)])
    func neverMoreThanItsWidthAtOnce(_ width: Int, _ slots: Int) async {
        let limiter = AsyncLimiter(width: width)
        let occupancy = Occupancy()
        let gate = Gate()
        let total = 60
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<total {
                group.addTask {
                    await limiter.run {
                        occupancy.enter()
                        await gate.wait()
                        // Long enough for a leaking limiter to let another body in meanwhile.
                        try? await Task.sleep(for: .milliseconds(1))
                        occupancy.leave()
                    }
                }
            }
            let saturated = await eventually { occupancy.now == slots && limiter.waiting == total - slots }
            #expect(
                saturated,
                "\(occupancy.now) running and \(limiter.waiting) waiting, expected \(slots) and \(total - slots)")
            gate.open()
        }
        #expect(occupancy.most == slots)
        #expect(occupancy.now == 0 && limiter.waiting == 0)
    }

    /// When a slot frees, the waiter with the lowest priority gets it; equal priorities go in
    /// arrival order.
    @Test func lowestPriorityFirstThenArrivalOrder() async {
        let limiter = AsyncLimiter(width: 1)
        let gate = Gate()
        let holding = Mutex(false)
        let holder = Task {
            await limiter.run {
                holding.withLock { $0 = true }
                await gate.wait()
            }
        }
        #expect(await eventually { holding.withLock { $0 } })
        let order = ArrivalLog()
        let arrivals: [(label: String, priority: Int)] = [
            ("c5", 5), ("a1", 1), ("b3", 3), ("a1-later", 1), ("z0", 0), ("b3-later", 3), ("c5-later", 5),
        ]
        var waiters: [Task<Void, Never>] = []
        for (index, arrival) in arrivals.enumerated() {
            waiters.append(Task { await limiter.run(priority: arrival.priority) { _ = order.append(arrival.label) } })
            // One at a time, so that the arrival order is the order of this list.
            #expect(await eventually { limiter.waiting == index + 1 })
        }
        gate.open()
        await holder.value
        for waiter in waiters { await waiter.value }
        #expect(order.all == ["z0", "a1", "a1-later", "b3", "b3-later", "c5", "c5-later"])
    }

    /// Cancellation is ignored while waiting: the cancelled task keeps its place, and its body
    /// still runs when a slot frees, seeing that it was cancelled.
    @Test func aCancelledWaiterStillRunsInItsTurn() async {
        let limiter = AsyncLimiter(width: 1)
        let gate = Gate()
        let holding = Mutex(false)
        let holder = Task {
            await limiter.run {
                holding.withLock { $0 = true }
                await gate.wait()
            }
        }
        #expect(await eventually { holding.withLock { $0 } })
        let sawCancellation = Mutex<Bool?>(nil)
        let waiter = Task { await limiter.run { sawCancellation.withLock { $0 = Task.isCancelled } } }
        #expect(await eventually { limiter.waiting == 1 })
        waiter.cancel()
        #expect(limiter.waiting == 1, "a cancelled waiter keeps its place")
        #expect(sawCancellation.withLock { $0 } == nil, "and does not run before a slot frees")
        gate.open()
        await holder.value
        await waiter.value
        #expect(sawCancellation.withLock { $0 } == true)
        #expect(limiter.waiting == 0)
    }

    /// A body that throws gives its slot back.
    @Test func aThrowingBodyFreesItsSlot() async throws {
        let limiter = AsyncLimiter(width: 1)
        await #expect(throws: Boom.self) { try await limiter.run { throw Boom() } }
        #expect(await limiter.run { 42 } == 42)
    }
}
