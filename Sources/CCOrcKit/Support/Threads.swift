import CShims
import Glibc

/// Runs `body` on a new detached thread (not the Swift cooperative pool), for work that blocks in
/// a system call. `name` is the thread's name in /proc and debuggers, as `Thread.name` set it.
func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    let context = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(
        &thread, nil,
        { context in
            let start = Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue()
            // Linux takes at most 15 bytes; a longer name is left unset, as Foundation's Thread left it.
            _ = cshims_set_thread_name(start.name)
            start.body()
            return nil
        }, context)
    guard status == 0 else {
        Unmanaged<ThreadStart>.fromOpaque(context).release()
        fatalError("cannot start thread \(name): \(String(cString: strerror(status)))")
    }
    pthread_detach(thread)
}

/// Runs `body` on a new thread (see `startThread`) and waits for its result without holding a
/// thread of the cooperative pool.
func onThread<Result: Sendable>(named name: String, _ body: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        startThread(named: name) { continuation.resume(returning: body()) }
    }
}

/// What a new thread runs, handed to it through pthread_create's argument.
private final class ThreadStart {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// Blocks the calling thread for `seconds` (as `Thread.sleep(forTimeInterval:)`), sleeping on
/// after a signal interrupts nanosleep(2) for the time that remains.
func sleepThread(seconds: Double) {
    guard seconds > 0 else { return }
    let whole = seconds.rounded(.down)
    var request = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) < 0 && errno == EINTR {
        request = remaining
    }
}
