import CCOrcKit
import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

/// Turns the first SIGINT, SIGTERM or SIGHUP into `onInterrupt` (the operation stops at its next
/// step, undoing or finishing what it must); a second one quits at once with status 130.
public final class InterruptWatch {
    private let sources: [DispatchSourceSignal]
    private static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Starts watching; `message` is printed on stderr at the first signal.
    public init(saying message: String, _ onInterrupt: @escaping @Sendable () -> Void) {
        let count = Mutex(0)
        sources = Self.signals.map { (number: Int32) -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let seen = count.withLock { count -> Int in
                    count += 1
                    return count
                }
                if seen > 1 { _exit(130) }
                StandardStream.error.write("\n\(message) (interrupt again to quit at once)\n")
                onInterrupt()
            }
            source.resume()
            return source
        }
    }

    /// Restores the default handling.
    public func cancel() {
        for source in sources { source.cancel() }
        for number in Self.signals { signal(number, SIG_DFL) }
    }
}
