import CCOrcHeader
import CCOrcKit
import FoundationEssentials  // Date only: each line's "time", as `ccorc watch --json` stamps it
import Synchronization

// `ccorc_watch` and `ccorc_watch_stop`: the lines of `ccorc watch --json`, handed to a C callback
// on the thread that called ccorc_watch. A detached task reads the watch stream and posts each
// change, serialized as it arrives, to a mailbox; the caller's thread waits on the mailbox and
// runs the callback, so that no C code ever runs on a thread of Swift's concurrency pool.

/// One ccorc_watch call's mailbox between the task that reads the watch stream and the C thread
/// blocked in the call: the lines in order, the stream's end, and a stop request.
final class WatchMailbox: @unchecked Sendable {
    // @unchecked: every stored property below `condition` is read and written holding it.

    /// What the blocked caller does next.
    enum Next {
        /// Run the callback with this line.
        case deliver(String)
        /// ccorc_watch_stop was called: return, whatever is still queued.
        case stopped
        /// The stream ended by itself, with this error or none.
        case ended((any Error)?)
    }

    private let condition = ConditionLock()
    private var lines: [String] = []
    private var head = 0
    private var stopRequested = false
    private var ended = false
    private var failure: (any Error)?

    /// Queues one line for the caller (dropped once a stop was asked for: nobody will read it).
    func post(_ line: String) {
        condition.withLock {
            if !stopRequested { lines.append(line) }
            condition.broadcast()
        }
    }

    /// Records that the stream ended, with `error` or none.
    func finish(_ error: (any Error)?) {
        condition.withLock {
            ended = true
            failure = error
            condition.broadcast()
        }
    }

    /// Asks the caller to return; a line it is delivering is delivered to the end.
    func stop() {
        condition.withLock {
            stopRequested = true
            condition.broadcast()
        }
    }

    /// Waits for a line, a stop or the stream's end. A stop comes before queued lines (so that a
    /// stop from inside the callback is the last callback); the stream's end after them (so that
    /// the changes before a failure are all delivered).
    func next() -> Next {
        condition.withLock {
            while head == lines.count && !stopRequested && !ended { condition.wait() }
            if stopRequested { return .stopped }
            guard head < lines.count else { return .ended(failure) }
            let line = lines[head]
            head += 1
            if head == lines.count {
                lines.removeAll(keepingCapacity: true)
                head = 0
            }
            return .deliver(line)
        }
    }

    /// Waits until the reading task has let go of the stream (it ends promptly once cancelled).
    func waitForEnd() {
        condition.withLock {
            while !ended { condition.wait() }
        }
    }

    /// Reads `changes` into the mailbox until the stream ends or the reading task is cancelled.
    func read(_ changes: AsyncThrowingStream<SessionChange, any Error>) async {
        do {
            for try await change in changes { post(change.jsonValue(at: Date()).serialized()) }
            finish(nil)
        } catch {
            finish(error)
        }
    }
}

/// The watches under way on one handle, which ccorc_watch_stop ends.
final class ActiveWatches: Sendable {
    private let mailboxes = Mutex<[ObjectIdentifier: WatchMailbox]>([:])

    /// Registers a watch, before its stream starts: from then on a stop reaches it.
    func begin(_ mailbox: WatchMailbox) {
        mailboxes.withLock { $0[ObjectIdentifier(mailbox)] = mailbox }
    }

    /// Unregisters a watch as its call returns.
    func end(_ mailbox: WatchMailbox) {
        _ = mailboxes.withLock { $0.removeValue(forKey: ObjectIdentifier(mailbox)) }
    }

    /// Asks every registered watch to return; the number asked. Nothing is remembered for
    /// watches that begin later.
    func stopAll() -> Int {
        let running = mailboxes.withLock { Array($0.values) }
        for mailbox in running { mailbox.stop() }
        return running.count
    }
}

/// Follows sessions, calling back on the caller's thread (`ccorc_watch` in ccorc.h).
@_cdecl("ccorc_watch")
public func cWatch(
    _ handle: OpaquePointer?, _ filter: UnsafePointer<CChar>?, _ callback: ccorc_watch_callback?,
    _ userData: UnsafeMutableRawPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(error) {
        let session = try SessionHandle.from(handle)
        guard let callback else { throw BoundaryError.invalid("the callback must not be NULL") }
        let pattern = try optionalString(filter, "the filter").flatMap { $0.isEmpty ? nil : $0 }
        let watchFilter = WatchFilter(pattern: try pattern.map(GlobPattern.init))
        let mailbox = WatchMailbox()
        session.watches.begin(mailbox)
        defer { session.watches.end(mailbox) }
        let manager = session.manager
        let reader = Task.detached { await mailbox.read(manager.watch(watchFilter)) }
        // Cancelling ends the stream, which cancels the watcher; waiting means no task of this
        // call still reads from the handle once it returns (the caller may close it next).
        defer {
            reader.cancel()
            mailbox.waitForEnd()
        }
        while true {
            switch mailbox.next() {
            case .deliver(let line):
                line.withCString { callback($0, userData) }
            case .stopped:
                return
            case .ended(let failure?):
                throw failure
            case .ended(nil):
                throw BoundaryError(.internal, "the watch ended without ccorc_watch_stop")
            }
        }
    }
}

/// Ends the watches under way on a handle (`ccorc_watch_stop` in ccorc.h).
@_cdecl("ccorc_watch_stop")
public func cWatchStop(_ handle: OpaquePointer?) -> Int32 {
    guard let session = try? SessionHandle.from(handle) else { return 0 }
    return Int32(clamping: session.watches.stopAll())
}
