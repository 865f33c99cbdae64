import CShims
import Dispatch
import Synchronization

/// Runs many transfers at once on one `CURLM *` multi handle, driven by a dedicated thread.
///
/// The thread sits in `curl_multi_poll`; `submit` queues a transfer and wakes it with
/// `curl_multi_wakeup`. Finished transfers are completed on that thread. The multi handle keeps a
/// connection cache, so sequential requests reuse one connection to the engine and concurrent ones
/// open as many as are in flight. A dedicated thread (not the Swift cooperative pool) is used because
/// libcurl blocks in poll(2).
final class CurlMultiLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    /// The libcurl that made `multi` and every handle added to it.
    private let library: CurlLibrary
    private let lock = Mutex(())
    private var pending: [CurlTransfer] = []
    private var cancelRequested = false
    /// Transfers whose paused upload has data again.
    private var resumeRequested: [CurlTransfer] = []
    private var stopping = false
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    init(library: CurlLibrary) throws(TransportError) {
        guard let multi = cshims_curl_multi_init(library.api) else {
            throw TransportError(code: .other, message: "curl_multi_init failed")
        }
        self.multi = multi
        self.library = library
        _ = cshims_curl_multi_setopt_long(library.api, multi, CURLMOPT_MAXCONNECTS, 64)
    }

    deinit {
        _ = cshims_curl_multi_cleanup(library.api, multi)
    }

    /// Queues a transfer; its `completion` runs on the loop thread when it ends.
    func submit(_ transfer: CurlTransfer) {
        // Set before the loop thread can see the transfer: its read callback reads this. Only a
        // streamed upload needs it. The closure holds the transfer strongly (a cycle that
        // `complete` breaks): weak references would give every transfer a side table, which costs
        // an allocation per request and which valgrind, not reading Swift's tagged pointer to it,
        // reports as lost while its object is still alive.
        if transfer.streamsBody {
            transfer.resumeUpload = { [self, transfer] in self.resume(transfer) }
        }
        lock.withLock { _ in
            if !started {
                started = true
                startThread(named: "ccorc-curl") { [self] in run() }
            }
            pending.append(transfer)
        }
        _ = cshims_curl_multi_wakeup(library.api, multi)
    }

    /// Asks the loop to unpause a transfer whose read callback paused its upload (called from the
    /// body's producer thread): only the loop's thread may touch the easy handle.
    func resume(_ transfer: CurlTransfer) {
        lock.withLock { _ in resumeRequested.append(transfer) }
        _ = cshims_curl_multi_wakeup(library.api, multi)
    }

    /// Marks a transfer cancelled and wakes the loop so that it is removed promptly.
    func cancel(_ transfer: CurlTransfer) {
        transfer.cancel()
        lock.withLock { _ in cancelRequested = true }
        _ = cshims_curl_multi_wakeup(library.api, multi)
    }

    /// Stops the loop thread after failing whatever is still running; waits for it to exit.
    func shutdown() {
        let wasStarted = lock.withLock { _ -> Bool in
            stopping = true
            return started
        }
        guard wasStarted else { return }
        _ = cshims_curl_multi_wakeup(library.api, multi)
        finished.wait()
    }

    private func run() {
        var running: Int32 = 0
        while true {
            let (newTransfers, resumed, sweepCancelled, stop) = lock.withLock {
                _ -> ([CurlTransfer], [CurlTransfer], Bool, Bool) in
                defer {
                    pending.removeAll()
                    resumeRequested.removeAll()
                    cancelRequested = false
                }
                return (pending, resumeRequested, cancelRequested, stopping)
            }
            for transfer in newTransfers {
                active[transfer.easy.handle] = transfer
                _ = cshims_curl_multi_add_handle(library.api, multi, transfer.easy.handle)
            }
            for transfer in resumed where active[transfer.easy.handle] === transfer {
                // May call the read callback at once, on this thread.
                _ = cshims_curl_easy_pause(library.api, transfer.easy.handle, CURLPAUSE_CONT)
            }
            if stop {
                for transfer in active.values { transfer.cancel() }
            }
            if sweepCancelled || stop {
                for (handle, transfer) in active where transfer.isCancelled {
                    complete(handle, CURLE_ABORTED_BY_CALLBACK)
                }
            }
            if stop { break }
            _ = cshims_curl_multi_perform(library.api, multi, &running)
            var easy: UnsafeMutableRawPointer?
            var result = CURLE_OK
            while cshims_curl_multi_next_done(library.api, multi, &easy, &result) == 1 {
                if let easy { complete(easy, result) }
            }
            _ = cshims_curl_multi_poll(library.api, multi, 1000)
        }
        finished.signal()
    }

    private func complete(_ handle: UnsafeMutableRawPointer, _ code: CURLcode) {
        guard let transfer = active.removeValue(forKey: handle) else { return }
        _ = cshims_curl_multi_remove_handle(library.api, multi, handle)
        let outcome = transfer.finish(code)
        let completion = transfer.completion
        transfer.completion = nil
        transfer.resumeUpload = nil
        completion?(outcome)
    }
}
