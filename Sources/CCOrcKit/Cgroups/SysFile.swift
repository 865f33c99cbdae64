import Glibc

// The cgroup reader's only syscalls: small pseudo-files are read with open/read/close into a
// stack buffer, which costs a few microseconds where Foundation's file APIs cost tens.

enum SysFile {
    /// The contents of a small file (at most 64 KiB), or nil if it cannot be read.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer -> String? in
            while result.count < 65_536 {
                let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if count < 0 { return nil }
                if count == 0 { break }
                result.append(contentsOf: buffer[0..<count])
            }
            return String(decoding: result, as: UTF8.self)
        }
    }

    /// Whether a directory exists at `path`.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
