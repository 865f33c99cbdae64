/// One member of a tar archive, independent of how its header is written.
///
/// Paths and link targets are bytes: a file name on Linux is any bytes but `/` and NUL, and the
/// archive keeps them as they are.
public struct TarEntry: Sendable, Equatable {
    /// What the member is.
    public enum Kind: Sendable, Equatable {
        /// A regular file whose `size` bytes of contents follow the header.
        case regularFile(size: Int64)
        /// A second path to an earlier member's file (type '1'); `target` is that member's path.
        case hardLink(target: [UInt8])
        /// A symbolic link (type '2') to `target`, stored as is.
        case symbolicLink(target: [UInt8])
        /// A character device (type '3').
        case characterDevice(major: Int, minor: Int)
        /// A block device (type '4').
        case blockDevice(major: Int, minor: Int)
        /// A directory (type '5'); its path is written with a trailing slash.
        case directory
        /// A named pipe (type '6').
        case fifo
    }

    /// The path inside the archive, relative, without a leading `./` or a trailing slash.
    public var path: [UInt8]
    /// What the member is.
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (`0o7777`); file type bits are ignored.
    public var mode: Int
    /// The numeric owner.
    public var uid: Int
    /// The numeric group.
    public var gid: Int
    /// The modification time, seconds since 1970 (negative for earlier times).
    public var modified: Int64

    /// Creates an entry; see the properties for the meaning of each argument.
    public init(path: [UInt8], kind: Kind, mode: Int, uid: Int = 0, gid: Int = 0, modified: Int64 = 0) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.modified = modified
    }

    /// Creates an entry whose path is the UTF-8 of `path`.
    public init(_ path: String, kind: Kind, mode: Int, uid: Int = 0, gid: Int = 0, modified: Int64 = 0) {
        self.init(path: Array(path.utf8), kind: kind, mode: mode, uid: uid, gid: gid, modified: modified)
    }

    /// The number of content bytes that follow the header.
    public var contentSize: Int64 {
        if case .regularFile(let size) = kind { return size }
        return 0
    }
}
