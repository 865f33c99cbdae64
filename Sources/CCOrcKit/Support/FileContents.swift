import Glibc

/// A file that could not be read, with the system's reason.
public struct FileReadError: Error, CustomStringConvertible, Sendable {
    /// `cannot read PATH: REASON`.
    public var description: String
}

/// The bytes of the file at `path`.
/// - Throws: `FileReadError` naming the path and the reason (`No such file or directory`, ...).
public func readFileBytes(_ path: String) throws -> [UInt8] {
    guard let bytes = readWholeFile(path) else {
        // The read keeps no reason that tells "unreadable" from "not a plain file"; `access` does.
        let reason = access(path, R_OK) == 0 ? "it cannot be read as a whole file" : String(cString: strerror(errno))
        throw FileReadError(description: "cannot read \(path): \(reason)")
    }
    return bytes
}

/// The bytes of the file at `path`, read to its end; nil when it cannot be opened or read
/// (a directory among them: `read` fails with `EISDIR`).
func readWholeFile(_ path: String) -> [UInt8]? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let read = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, $0.count) }
        if read < 0 && errno == EINTR { continue }
        if read < 0 { return nil }
        if read == 0 { return bytes }
        bytes += chunk[..<read]
    }
}

/// Up to `count` bytes from the start of the file at `path`; nil when it cannot be opened or read.
func readFilePrefix(_ path: String, count: Int) -> [UInt8]? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
        let read = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, count - filled) }
        if read < 0 && errno == EINTR { continue }
        if read < 0 { return nil }
        if read == 0 { break }
        filled += read
    }
    return Array(bytes[..<filled])
}

/// Appends `bytes` to the file at `path`, creating it (mode 0666 less the umask) when missing;
/// quietly does nothing when it cannot be opened.
func appendToFile(_ path: String, _ bytes: [UInt8]) {
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    var written = 0
    while written < bytes.count {
        let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { return }
        written += count
    }
}

/// True when `path` names anything, following symbolic links (`FileManager.fileExists(atPath:)`:
/// a dangling link is not there).
public func fileExists(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0
}

/// True when `path` names a directory, or a symbolic link to one (`FileManager.fileExists(atPath:isDirectory:)`).
public func directoryExists(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
}
