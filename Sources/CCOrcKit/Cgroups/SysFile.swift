import Glibc

// The cgroup reader's only syscalls: pseudo-files are read with open/read/close into a stack
// buffer and parsed as bytes, which costs a few microseconds where Foundation's file APIs and
// String splitting cost tens.

enum SysFile {
    /// Reads a file of at most 16 KiB into a temporary buffer and hands its bytes to `body`;
    /// nil if the file cannot be read.
    static func withContents<T>(_ path: String, _ body: (UnsafeRawBufferPointer) -> T?) -> T? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(byteCount: 16_384, alignment: 1) { buffer -> T? in
            var filled = 0
            while filled < buffer.count {
                let count = Glibc.read(fd, buffer.baseAddress! + filled, buffer.count - filled)
                if count < 0 { return nil }
                if count == 0 { break }
                filled += count
            }
            return body(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
        }
    }

    /// The contents of a small file as text.
    static func read(_ path: String) -> String? {
        withContents(path) { String(decoding: $0, as: UTF8.self) }
    }

    /// The file's first token as an integer (`memory.usage_in_bytes`, `cpu.cfs_quota_us`);
    /// nil for unreadable files and non-numbers such as `max`.
    static func integer(_ path: String) -> Int64? {
        withContents(path) { parseInteger($0, from: 0) }
    }

    /// The value of `name` in a `key value` per line file (`memory.stat`, `cpu.stat`).
    static func field(_ path: String, _ name: StaticString) -> Int64? {
        withContents(path) { bytes -> Int64? in
            let key = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
            var lineStart = 0
            while lineStart + key.count < bytes.count {
                if bytes[lineStart + key.count] == UInt8(ascii: " "),
                    memcmp(bytes.baseAddress! + lineStart, key.baseAddress!, key.count) == 0
                {
                    return parseInteger(bytes, from: lineStart + key.count + 1)
                }
                guard let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                lineStart = newline + 1
            }
            return nil
        }
    }

    /// Parses an optionally negative decimal integer starting at `start`.
    static func parseInteger(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int64? {
        var index = start
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var value: Int64 = 0
        var digits = 0
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = product + Int64(bytes[index] - 48)
            digits += 1
            index += 1
        }
        return digits == 0 ? nil : (negative ? -value : value)
    }
}
