import CShims
import Synchronization

/// Sends HTTP requests to the engine through libcurl, concurrently: over a Unix socket or TCP,
/// with TLS through the system's libcurl (see `CurlLibrary`).
///
/// Asynchronous requests run on one shared multi handle (`CurlMultiLoop`); blocking requests run on
/// the caller's thread with an easy handle from a small pool, each of which keeps its own connection
/// open between calls. Instances share no global state, so several transports (several engines) can
/// live in one process.
final class CurlTransport: Sendable {
    /// Where every request goes.
    let endpoint: CurlEndpoint
    /// The libcurl that serves `endpoint`.
    let library: CurlLibrary
    private let loop: CurlMultiLoop
    private let idleHandles = Mutex<[IdleHandle]>([])

    /// An easy handle no transfer is using. The handle is not Sendable (libcurl wants one thread at
    /// a time on it); one in the pool is used by nobody, and is handed to one thread at a time
    /// through the mutex.
    private struct IdleHandle: @unchecked Sendable {
        let easy: CurlEasy
    }

    /// A transport to `endpoint`; loads the system's libcurl first when the endpoint needs TLS.
    init(endpoint: CurlEndpoint) throws(TransportError) {
        self.endpoint = endpoint
        self.library = try endpoint.library()
        self.loop = try CurlMultiLoop(library: library)
    }

    deinit { loop.shutdown() }

    private func takeHandle() throws(TransportError) -> CurlEasy {
        if let idle = idleHandles.withLock({ $0.popLast() }) { return idle.easy }
        return try CurlEasy(library: library)
    }

    private func recycle(_ handle: CurlEasy) {
        idleHandles.withLock { handles in
            if handles.count < 8 { handles.append(IdleHandle(easy: handle)) }
        }
    }

    /// Sends `request` and waits on the calling thread for the whole reply.
    func sendBlocking(_ request: HTTPRequest, sink: HTTPChunkSink? = nil) throws(TransportError) -> HTTPResponse {
        let handle = try takeHandle()
        let outcome: Result<HTTPResponse, TransportError>
        do {
            let transfer = try CurlTransfer(easy: handle, endpoint: endpoint, request: request, sink: sink)
            outcome = transfer.perform()
        }
        recycle(handle)
        return try outcome.get()
    }

    /// Sends `request` on the shared multi handle; cancelling the task aborts the transfer.
    func send(_ request: HTTPRequest, sink: HTTPChunkSink? = nil) async throws(TransportError) -> HTTPResponse {
        let handle = try takeHandle()
        let transfer: CurlTransfer
        do {
            transfer = try CurlTransfer(easy: handle, endpoint: endpoint, request: request, sink: sink)
        } catch {
            recycle(handle)
            throw error
        }
        let outcome: Result<HTTPResponse, TransportError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.completion = { continuation.resume(returning: $0) }
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        recycle(handle)
        return try outcome.get()
    }
}
