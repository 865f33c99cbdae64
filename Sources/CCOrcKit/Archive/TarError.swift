/// A tree could not be archived, or a value cannot be written as a tar member.
public struct TarError: Error, CustomStringConvertible, Sendable {
    /// The class of the failure, for callers that switch on it.
    public enum Code: Sendable, Equatable {
        /// The directory to archive does not exist.
        case notFound
        /// The path to archive is not a directory.
        case notADirectory
        /// A file or directory could not be opened or read (see `errno`).
        case unreadable
        /// A file changed size or was replaced while it was being archived.
        case changed
        /// A path listed in its directory was gone when the archiver reached it.
        case vanished
        /// A value has no tar representation (an empty path, a NUL byte, a negative ID).
        case unrepresentable
        /// Anything else.
        case other
    }

    /// The class of the failure.
    public var code: Code
    /// The one-line message, naming the path.
    public var message: String
    /// The path on disk the failure is about, when there is one.
    public var path: String?
    /// The errno of the failing system call, when there is one.
    public var errno: Int32?

    /// A failure of class `.other`.
    public init(message: String) {
        self.init(.other, message)
    }

    /// Creates an error; see the properties for the meaning of each argument.
    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    public var description: String { message }
}
