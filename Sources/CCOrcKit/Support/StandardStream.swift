import Glibc

/// The process's standard output or standard error, written unbuffered with write(2) (as
/// `FileHandle.standardOutput.write` did), so text appears at once and in call order.
public enum StandardStream: Int32, Sendable {
    /// File descriptor 1.
    case output = 1
    /// File descriptor 2.
    case error = 2

    /// Writes `text` as UTF-8.
    public func write(_ text: String) {
        write(Array(text.utf8))
    }

    /// Writes all of `bytes`, retrying after a signal interrupts write(2) and after a partial
    /// write; stops quietly when the stream is gone (a closed pipe, say).
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(rawValue, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
