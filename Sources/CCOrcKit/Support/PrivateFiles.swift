import Glibc

// The files ccorc writes hold secrets (the registry keeps every session's environment and agent
// command; an export with --include-secrets has them too), so they are the user's alone: the
// directories 0700 and the files 0600. Files are created with that mode (open(2) with O_CREAT),
// never written first and tightened after, so no other user can open one in between.

/// A private file or directory that could not be created, written or tightened.
public struct PrivateFileError: Error, CustomStringConvertible, Sendable {
    /// The path concerned.
    public var path: String
    /// The failed system call's `errno`.
    public var errno: Int32
    /// `cannot OPERATION PATH: REASON`.
    public var description: String

    init(_ operation: String, _ path: String, errno: Int32) {
        self.path = path
        self.errno = errno
        description = "cannot \(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

/// Creating and tightening the files and directories that only their owner may read.
public enum PrivateFiles {
    /// The mode of every file ccorc writes.
    public static let fileMode: mode_t = 0o600
    /// The mode of every directory ccorc keeps files in.
    public static let directoryMode: mode_t = 0o700

    /// Writes `bytes` to `path` atomically, in a new file created with mode 0600 beside it and
    /// renamed over `path` (`open(O_CREAT | O_EXCL, 0600)`, `write`, `fsync`, `rename`): a reader
    /// sees the old file or the whole new one, and never a moment of a wider mode.
    /// - Throws: `PrivateFileError` naming `path` (or the temporary file) and the reason.
    public static func write(_ bytes: [UInt8], to path: String) throws(PrivateFileError) {
        let directory = Path.parent(path)
        let temporary =
            (directory.isEmpty ? "." : directory)
            + "/.\(Path.lastComponent(path)).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else { throw PrivateFileError("write", path, errno: Glibc.errno) }
        var failure: PrivateFileError?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if Glibc.errno == EINTR { continue }
                    failure = PrivateFileError("write", path, errno: Glibc.errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = PrivateFileError("write", path, errno: Glibc.errno) }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 {
            failure = PrivateFileError("write", path, errno: Glibc.errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// Creates `path` with mode 0700 and any missing parents (0700 as well).
    /// - Throws: `PrivateFileError` when a directory cannot be made.
    public static func createDirectory(_ path: String) throws(PrivateFileError) {
        if directoryExists(path) { return }
        let parent = Path.parent(path)
        if !parent.isEmpty, parent != path { try createDirectory(parent) }
        if mkdir(path, directoryMode) != 0, Glibc.errno != EEXIST {
            throw PrivateFileError("create the directory", path, errno: Glibc.errno)
        }
    }

    /// Creates the file `path` empty with mode 0600 unless it exists; an existing file is left as it is.
    /// - Throws: `PrivateFileError` when it cannot be created.
    public static func createFileIfAbsent(_ path: String) throws(PrivateFileError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else { throw PrivateFileError("create", path, errno: Glibc.errno) }
        close(descriptor)
    }

    /// Takes the group's and others' permissions away from `path` (0700 for a directory, 0600 for
    /// a file), if it exists and has any.
    ///
    /// A directory with the sticky bit (`/tmp` and its kind) is shared by design and left alone,
    /// as is anything another user owns: both are reported instead.
    /// - Returns: a one-line warning when `path` is wider than private and stays so; nil when it
    ///   is private now or does not exist.
    public static func tighten(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        let mode = status.st_mode & 0o7777
        guard mode & 0o077 != 0 else { return nil }
        let isDirectory = status.st_mode & S_IFMT == S_IFDIR
        let wanted = isDirectory ? directoryMode : fileMode
        let shown = String(mode, radix: 8)
        if isDirectory, mode & S_ISVTX != 0 {
            return
                "\(path) is a shared directory (mode \(shown), sticky); its files are private, but pick a directory of your own"
        }
        if status.st_uid != geteuid() {
            return
                "\(path) has mode \(shown) and belongs to another user; it cannot be made private (\(String(wanted, radix: 8)))"
        }
        guard chmod(path, wanted) == 0 else {
            return
                "\(path) has mode \(shown) and cannot be made private (\(String(wanted, radix: 8))): \(String(cString: strerror(Glibc.errno)))"
        }
        return nil
    }

    /// The permission bits of `path` (`stat(2)`'s `st_mode & 07777`); nil when it does not exist.
    public static func mode(of path: String) -> mode_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o7777
    }
}
