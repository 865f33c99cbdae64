import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

/// The engine requests of a cleanup: what counts as done, and how a removal the engine already
/// has under way is waited out.
@Suite struct CleanupRequestsTests {
    /// What dockerd 20.10 answers to a DELETE of a container it is already removing.
    static let inProgress = EngineError(
        .conflict, "removal of container 3f1c0a9e2b7d is already in progress", status: 409,
        operation: "DELETE /containers/3f1c0a9e2b7d")
    static let gone = EngineError(
        .notFound, "No such container: 3f1c0a9e2b7d", status: 404, operation: "DELETE /containers/3f1c0a9e2b7d")

    /// The default patience only bounds a wait that ends in milliseconds; it is long because these
    /// tests share the process with integration tests whose blocking calls can hold the
    /// cooperative threads for seconds (seen once: 12 s for four 2 ms polls).
    func requests(
        width: Int = 1, control: CleanupControl = CleanupControl(), patience: Duration = .seconds(120)
    ) -> EngineRequests {
        EngineRequests(
            limiter: AsyncLimiter(width: width), control: control, removalPoll: .milliseconds(2),
            removalPatience: patience)
    }

    @Test func recognisesTheEnginesRemovalInProgress() {
        #expect(Self.inProgress.isRemovalInProgress)
        #expect(
            !EngineError(.conflict, "conflict: unable to remove volume: volume is in use - [3f1c0a9e2b7d]", status: 409)
                .isRemovalInProgress)
        #expect(
            !EngineError(.conflict, "Conflict. The container name \"/x\" is already in use", status: 409)
                .isRemovalInProgress)
        #expect(!EngineError(.server, "removal of container x is already in progress", status: 500).isRemovalInProgress)
    }

    @Test func aRemovalInProgressIsWaitedOutUntilTheContainerIsGone() async throws {
        let attempts = Mutex(0)
        let result: Void? = try await requests().run {
            let attempt = attempts.withLock { attempts -> Int in
                attempts += 1
                return attempts
            }
            throw attempt < 4 ? Self.inProgress : Self.gone
        }
        #expect(result == nil, "gone counts as removed")
        #expect(attempts.withLock { $0 } == 4)
    }

    @Test func otherConflictsAndNonRemovalsFailAtOnce() async {
        let attempts = Mutex(0)
        let inUse = EngineError(
            .conflict, "conflict: unable to remove volume: volume is in use - [3f1c0a9e2b7d]", status: 409)
        await #expect(throws: EngineError.self) {
            try await requests().run { () async throws -> Void in
                attempts.withLock { $0 += 1 }
                throw inUse
            }
        }
        #expect(attempts.withLock { $0 } == 1)
        // Not a removal (a repair's create): a 409 of any kind is the answer.
        await #expect(throws: EngineError.self) {
            try await requests().run(absentIsDone: false) { () async throws -> Void in
                attempts.withLock { $0 += 1 }
                throw Self.inProgress
            }
        }
        #expect(attempts.withLock { $0 } == 2)
    }

    @Test func aRemovalThatNeverEndsFailsAfterThePatience() async {
        let attempts = Mutex(0)
        let started = ContinuousClock.now
        let error = await #expect(throws: EngineError.self) {
            try await requests(patience: .milliseconds(50)).run { () async throws -> Void in
                attempts.withLock { $0 += 1 }
                throw Self.inProgress
            }
        }
        #expect(error?.isRemovalInProgress == true)
        #expect(attempts.withLock { $0 } > 1)
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    /// The patience runs from the first "in progress" reply: time spent queued for a slot
    /// does not use it up.
    @Test func thePatienceStartsWithTheFirstReply() async throws {
        let requests = requests(width: 1, patience: .milliseconds(50))
        let gate = Gate()
        let holding = Mutex(false)
        let holder = Task {
            await requests.limiter.run {
                holding.withLock { $0 = true }
                await gate.wait()
            }
        }
        #expect(await eventually { holding.withLock { $0 } })
        let attempts = Mutex(0)
        let waiter = Task {
            try await requests.run { () async throws -> Void in
                let attempt = attempts.withLock { attempts -> Int in
                    attempts += 1
                    return attempts
                }
                throw attempt == 1 ? Self.inProgress : Self.gone
            }
        }
        #expect(await eventually { requests.limiter.waiting == 1 })
        // Queued for longer than the patience: the time passing is the point, not a wait for something.
        try await Task.sleep(for: .milliseconds(100))
        gate.open()
        await holder.value
        let result: Void? = try await waiter.value
        #expect(result == nil)
        #expect(attempts.withLock { $0 } == 2)
    }

    /// After a stop, a session that has begun sends its remaining requests; one that has not
    /// begun sends none, and neither does a request that belongs to no session.
    @Test func aStopLetsABegunSessionFinishAndHoldsBackTheRest() async throws {
        let control = CleanupControl()
        let requests = requests(control: control)
        let begun = SessionRequests()
        let sent = Mutex<[String]>([])
        _ = try await requests.run(of: begun) { sent.withLock { $0.append("begun 1") } }
        control.stop()
        _ = try await requests.run(of: begun) { sent.withLock { $0.append("begun 2") } }
        await #expect(throws: EngineRequests.Stopped.self) {
            try await requests.run(of: SessionRequests()) { sent.withLock { $0.append("not begun") } }
        }
        await #expect(throws: EngineRequests.Stopped.self) {
            try await requests.run { sent.withLock { $0.append("no session") } }
        }
        #expect(sent.withLock { $0 } == ["begun 1", "begun 2"])
    }

    /// While one request waits for a removal in progress, its slot serves the others.
    @Test func theWaitDoesNotHoldASlot() async throws {
        let requests = requests(width: 1)
        let order = ArrivalLog()
        let first = Task {
            try await requests.run(for: 0) { () async throws -> Void in
                let attempt = order.append("first")
                if attempt == 1 {
                    // Answer only once the second request is queued behind this one.
                    _ = await eventually { requests.limiter.waiting == 1 }
                    throw Self.inProgress
                }
                throw Self.gone
            }
        }
        #expect(await eventually { order.all == ["first"] })
        let second = Task { try await requests.run(for: 1) { _ = order.append("second") } }
        _ = try await first.value
        _ = try await second.value
        #expect(order.all == ["first", "second", "first"])
    }

    /// A cleanup stopped while a request waits for a removal in progress asks no more.
    @Test func aStopEndsTheWait() async {
        let control = CleanupControl()
        let attempts = Mutex(0)
        await #expect(throws: EngineRequests.Stopped.self) {
            try await requests(control: control).run { () async throws -> Void in
                attempts.withLock { $0 += 1 }
                control.stop()
                throw Self.inProgress
            }
        }
        #expect(attempts.withLock { $0 } == 1)
    }
}
