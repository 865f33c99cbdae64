import CCOrcKit
import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

/// SIGINT, SIGTERM and SIGHUP seen since the watch started, counted by the signal handler itself.
private let signalsSeen = Atomic<Int>(0)
/// The write end of the pipe the signal handler wakes the watch's reader with; -1 when none.
private let wakeDescriptor = Atomic<Int32>(-1)

/// The signal handler: only what is safe there (an atomic add, `write`, `_exit`), and the
/// interrupted code's `errno` left as it was.
private func countSignal(_: Int32) {
    let savedErrno = errno
    defer { errno = savedErrno }
    if signalsSeen.add(1, ordering: .sequentiallyConsistent).newValue > 1 { _exit(130) }
    var byte: UInt8 = 1
    _ = write(wakeDescriptor.load(ordering: .sequentiallyConsistent), &byte, 1)
}

/// Turns the first SIGINT, SIGTERM or SIGHUP into a stop of `control` (the operation stops at
/// its next step, undoing or finishing what it must); a second one quits at once with status 130.
///
/// The handler counts the signal itself, so `control` is stopped the moment the signal arrives:
/// a Ctrl-C during a step is seen at that step's end, however busy the process is. Only the
/// message waits for a thread to print it.
public final class InterruptWatch {
    /// Stopped by the first signal.
    public let control: StopControl
    private let reader: DispatchSourceRead?
    private static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Starts watching; `message` is printed on stderr at the first signal.
    public init(saying message: String) {
        signalsSeen.store(0, ordering: .sequentiallyConsistent)
        control = StopControl(stoppedWhen: { signalsSeen.load(ordering: .sequentiallyConsistent) > 0 })
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, O_NONBLOCK)
            }
            let reader = DispatchSource.makeReadSource(fileDescriptor: ends[0], queue: .global())
            reader.setEventHandler {
                var drained = [UInt8](repeating: 0, count: 16)
                _ = read(ends[0], &drained, drained.count)
                StandardStream.error.write("\n\(message) (interrupt again to quit at once)\n")
            }
            // Closed only once no event handler can be reading the pipe any more.
            reader.setCancelHandler {
                close(ends[0])
                close(ends[1])
            }
            reader.resume()
            self.reader = reader
        } else {
            reader = nil
        }
        wakeDescriptor.store(reader == nil ? -1 : ends[1], ordering: .sequentiallyConsistent)
        for number in Self.signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = countSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    /// Restores the default handling.
    public func cancel() {
        for number in Self.signals { signal(number, SIG_DFL) }
        wakeDescriptor.store(-1, ordering: .sequentiallyConsistent)
        reader?.cancel()
    }
}
