import Glibc

// The system calls the directory archiver makes: lstat(2), readdir(3), readlink(2), open(2),
// fstat(2) and read(2). This is the only file of the archiver that touches C types and raw
// pointers; everything it returns is plain values.

/// A file's metadata from lstat(2) or fstat(2), as plain values.
struct FileStatus: Sendable, Equatable {
    /// The file type bits of `st_mode`.
    enum FileType: Sendable, Equatable {
        case regular, directory, symbolicLink, characterDevice, blockDevice, fifo, socket
    }

    var type: FileType
    /// `st_mode & 0o7777`: permissions with setuid, setgid and sticky.
    var permissions: Int
    var uid: Int
    var gid: Int
    var size: Int64
    /// `st_mtim.tv_sec`.
    var modified: Int64
    var device: UInt64
    var inode: UInt64
    var linkCount: Int
    /// The major and minor numbers of `st_rdev`, for device files.
    var deviceMajor: Int
    var deviceMinor: Int

    /// What identifies the file itself, whichever path reaches it.
    var identity: FileIdentity { FileIdentity(device: device, inode: inode) }
}

/// A file's device and inode: equal for every hard link to it.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
}

/// The failing call's errno and the text strerror(3) gives it.
struct SystemCallFailure: Error {
    var errno: Int32
    var text: String { String(cString: strerror(errno)) }
    /// Whether the path (or a directory on the way to it) does not exist.
    var isNotFound: Bool { errno == ENOENT || errno == ENOTDIR }
}

/// Reads directory trees without following symbolic links.
enum FileTree {
    /// lstat(2), or stat(2) when `followLinks`; nil when nothing is at `path`.
    static func status(_ path: [UInt8], followLinks: Bool = false) throws(SystemCallFailure) -> FileStatus? {
        var info = stat()
        let result = withCPath(path) { followLinks ? stat($0, &info) : lstat($0, &info) }
        if result != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemCallFailure(errno: errno)
        }
        return FileStatus(info)
    }

    /// The names in a directory (without `.` and `..`), in the order readdir(3) gives them.
    /// - Parameter followLinks: whether `path` itself may be a symbolic link to a directory.
    static func names(inDirectory path: [UInt8], followLinks: Bool = false) throws(SystemCallFailure) -> [[UInt8]] {
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW)
        let descriptor = withCPath(path) { open($0, flags) }
        guard descriptor >= 0 else { throw SystemCallFailure(errno: errno) }
        guard let directory = fdopendir(descriptor) else {
            let failure = SystemCallFailure(errno: errno)
            close(descriptor)
            throw failure
        }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw SystemCallFailure(errno: errno) }
                return names
            }
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
    }

    /// Where the symbolic link at `path` points, as stored.
    static func linkTarget(_ path: [UInt8]) throws(SystemCallFailure) -> [UInt8] {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let length = withCPath(path) { cPath in
                buffer.withUnsafeMutableBytes {
                    readlink(cPath, $0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity)
                }
            }
            if length < 0 { throw SystemCallFailure(errno: errno) }
            if length < capacity { return Array(buffer[..<length]) }
            capacity *= 4
        }
    }

    /// Runs `body` with `path` as a NUL-terminated C string.
    private static func withCPath<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (path + [0]).withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }

    /// Opens a regular file for reading without following a symbolic link.
    static func openFile(_ path: [UInt8]) throws(SystemCallFailure) -> OpenFile {
        let descriptor = withCPath(path) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard descriptor >= 0 else { throw SystemCallFailure(errno: errno) }
        return OpenFile(descriptor: descriptor)
    }
}

/// An open file descriptor, closed when its owner goes away.
struct OpenFile: ~Copyable {
    let descriptor: Int32

    deinit { close(descriptor) }

    /// fstat(2) of the open file.
    func status() throws(SystemCallFailure) -> FileStatus {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemCallFailure(errno: errno) }
        return FileStatus(info)
    }

    /// Reads up to `count` bytes onto the end of `chunk`; returns how many arrived (0 at the end
    /// of the file).
    func read(appendingTo chunk: inout ChunkBuilder, count: Int) throws(SystemCallFailure) -> Int {
        chunk.reserve(count)
        var result = 0
        repeat {
            result = Glibc.read(descriptor, chunk.end, count)
        } while result < 0 && errno == EINTR
        if result < 0 { throw SystemCallFailure(errno: errno) }
        chunk.advance(by: result)
        return result
    }
}

/// The bytes of one archive chunk as they are written, in one allocation that file contents are
/// read into directly. (Growing a `[UInt8]` and reading into its tail costs a pass over every byte
/// to initialise it first, which is most of the time in a debug build.)
struct ChunkBuilder: ~Copyable {
    private var storage: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: max(capacity, 1), alignment: 1)
    }

    deinit { storage.deallocate() }

    /// Where the next byte goes.
    fileprivate var end: UnsafeMutableRawPointer { storage.baseAddress! + count }

    /// Makes room for `more` bytes after the current end.
    mutating func reserve(_ more: Int) {
        guard count + more > storage.count else { return }
        let larger = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(storage.count * 2, count + more), alignment: 1)
        larger.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: count)
        storage.deallocate()
        storage = larger
    }

    fileprivate mutating func advance(by written: Int) { count += written }

    mutating func append(_ bytes: [UInt8]) {
        reserve(bytes.count)
        bytes.withUnsafeBytes { end.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        count += bytes.count
    }

    mutating func appendZeros(_ length: Int) {
        reserve(length)
        end.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        count += length
    }

    /// The bytes written, as an array.
    consuming func finish() -> [UInt8] {
        let storage = self.storage
        let count = self.count
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: storage.baseAddress!, byteCount: count)
            }
            initialized = count
        }
    }
}

extension FileStatus {
    fileprivate init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symbolicLink
        case S_IFCHR: type = .characterDevice
        case S_IFBLK: type = .blockDevice
        case S_IFIFO: type = .fifo
        case S_IFSOCK: type = .socket
        default: type = .regular  // S_IFREG
        }
        permissions = Int(info.st_mode & 0o7777)
        uid = Int(info.st_uid)
        gid = Int(info.st_gid)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        linkCount = Int(info.st_nlink)
        // glibc's major()/minor() are macros; this is their arithmetic.
        let rdev = UInt64(info.st_rdev)
        deviceMajor = Int(((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff)))
        deviceMinor = Int((rdev & 0xff) | ((rdev >> 12) & ~UInt64(0xff)))
    }
}
