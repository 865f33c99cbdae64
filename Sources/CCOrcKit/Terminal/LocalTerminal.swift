import Glibc

/// The local terminal: raw mode, its size, and restoring it whatever happens.
///
/// The terminal is process-wide, so the saved mode is too: signal handlers (which cannot capture
/// context) read it to restore the terminal before the process dies of SIGINT, SIGTERM, SIGHUP or
/// SIGPIPE.
public enum LocalTerminal {
    nonisolated(unsafe) private static var savedMode = termios()
    nonisolated(unsafe) private static var savedDescriptor: Int32 = -1
    /// The descriptor the full screen was entered on; -1 when it is not (or no longer) in use.
    nonisolated(unsafe) private static var screenDescriptor: Int32 = -1
    /// Resets attributes, shows the cursor and leaves the alternate screen; a static string,
    /// because a signal handler may not allocate.
    static let leaveScreen: StaticString = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l"

    /// Whether `descriptor` is a terminal.
    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// Whether `descriptor` carries data worth forwarding without being asked: a pipe, a socket or a
    /// regular file (`printf ... | ccdk exec NAME -- cat`), not a terminal and not `/dev/null`.
    public static func isDataSource(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFREG || type == S_IFSOCK
    }

    /// The terminal's size as (rows, columns), or nil when it is not a terminal.
    public static func size(_ descriptor: Int32 = STDOUT_FILENO) -> (rows: Int, columns: Int)? {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_row), Int(size.ws_col))
    }

    /// Puts `descriptor` into raw mode (no echo, no line editing, no signals from keys) until
    /// `restore()`; also arranges for SIGINT, SIGTERM, SIGHUP and SIGPIPE to restore it before the
    /// process ends. SIGPIPE is the common one: `ccdk exec -t -i NAME -- yes | head -1` writes to a
    /// pipe whose reader has gone, and the process ends as a pipeline expects, terminal restored.
    /// - Returns: false when `descriptor` is not a terminal (nothing changed).
    @discardableResult
    public static func enterRawMode(_ descriptor: Int32 = STDIN_FILENO) -> Bool {
        var mode = termios()
        guard tcgetattr(descriptor, &mode) == 0 else { return false }
        savedMode = mode
        savedDescriptor = descriptor
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] {
            _ = Glibc.signal(signal) { received in
                LocalTerminal.restore()
                _ = Glibc.signal(received, SIG_DFL)
                _ = raise(received)
            }
        }
        cfmakeraw(&mode)
        return tcsetattr(descriptor, TCSANOW, &mode) == 0
    }

    /// Puts `input` into raw mode (see `enterRawMode`) and `output` on the alternate screen with the
    /// cursor hidden, until `restore()`, which the signals that end the process call too.
    /// - Returns: false when `input` is not a terminal (nothing changed).
    public static func enterFullScreen(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) -> Bool {
        guard enterRawMode(input) else { return false }
        screenDescriptor = output
        writeAll(output, Array(TopView.enterScreen.utf8))
        return true
    }

    /// Restores the mode saved by `enterRawMode` and leaves the full screen of `enterFullScreen`;
    /// safe to call more than once and from a signal handler.
    public static func restore() {
        if screenDescriptor >= 0 {
            let descriptor = screenDescriptor
            screenDescriptor = -1
            _ = Glibc.write(descriptor, leaveScreen.utf8Start, leaveScreen.utf8CodeUnitCount)
        }
        guard savedDescriptor >= 0 else { return }
        _ = tcsetattr(savedDescriptor, TCSANOW, &savedMode)
    }

    /// Writes all of `bytes` to `descriptor`, retrying partial and interrupted writes.
    public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += written
        }
    }

    /// Reads what is available from `descriptor`; nil at end of input.
    public static func readAvailable(_ descriptor: Int32, maximum: Int = 65_536) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return nil }
            return Array(buffer[0..<count])
        }
    }
}
