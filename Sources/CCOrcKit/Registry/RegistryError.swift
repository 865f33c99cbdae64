import CShims

/// An error from the session registry (`$CCORC_HOME/registry.db`) or from a name it was given.
///
/// Carries SQLite's own result code and `sqlite3_errmsg` text where SQLite failed, and a one-line
/// description that tells the user what to do.
public struct RegistryError: Error, CustomStringConvertible, Sendable {
    /// The class of the failure, for callers that switch on it.
    public enum Code: String, Sendable, Equatable {
        /// A session of that name is already registered (or being launched).
        case alreadyExists
        /// No session of that name is registered.
        case notFound
        /// The database file is damaged or not a database; at open it has been moved aside.
        case corrupt
        /// Another process held the database locked for longer than the busy timeout.
        case busy
        /// The file or its directory could not be created, read or written.
        case io
        /// The database was written by a newer ccorc whose schema this one does not know.
        case schemaTooNew
        /// A session name or agent role breaks the naming rule.
        case invalidName
        /// Anything else (a constraint, a misuse, an unexpected SQLite result).
        case other
    }

    /// The class of the failure.
    public var code: Code
    /// What went wrong, in words a user can act on; `description` returns it.
    public var message: String
    /// SQLite's extended result code (e.g. 5 `SQLITE_BUSY`, 26 `SQLITE_NOTADB`); nil when SQLite
    /// was not involved.
    public var sqliteCode: Int32?
    /// SQLite's `sqlite3_errmsg` text for `sqliteCode`.
    public var sqliteMessage: String?
    /// The database file concerned, when there is one.
    public var path: String?
    /// Where a corrupt database was moved (`registry.db.corrupt-<UTC timestamp>`), for `.corrupt`
    /// errors raised at open.
    public var movedTo: String?

    /// Creates an error; see the properties for the meaning of each argument.
    public init(
        _ code: Code, _ message: String, sqliteCode: Int32? = nil, sqliteMessage: String? = nil,
        path: String? = nil, movedTo: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
        self.sqliteMessage = sqliteMessage
        self.path = path
        self.movedTo = movedTo
    }

    /// The one-line message, for the CLI to print as is.
    public var description: String { message }

    /// The primary SQLite result code (the low byte of the extended code), if any.
    public var sqlitePrimaryCode: Int32? { sqliteCode.map { $0 & 0xff } }
}

extension RegistryError {
    static func alreadyExists(_ name: SessionName) -> RegistryError {
        RegistryError(.alreadyExists, "session \(name) already exists")
    }

    static func notFound(_ name: SessionName) -> RegistryError {
        RegistryError(.notFound, "session \(name) not found (run `ccorc list` to see the registered sessions)")
    }

    static func corrupt(path: String, movedTo: String, sqliteCode: Int32?, sqliteMessage: String?) -> RegistryError {
        let cause = sqliteMessage.map { " (\($0))" } ?? ""
        return RegistryError(
            .corrupt,
            "the registry at \(path) is corrupt\(cause); it was moved to \(movedTo) — run `ccorc recover` to rebuild it from the engine",
            sqliteCode: sqliteCode, sqliteMessage: sqliteMessage, path: path, movedTo: movedTo)
    }

    static func schemaTooNew(path: String, found: Int, known: Int) -> RegistryError {
        RegistryError(
            .schemaTooNew,
            "the registry at \(path) has schema version \(found), but this ccorc knows only up to \(known); upgrade ccorc or use the one that wrote it",
            path: path)
    }

    /// Classifies a failed SQLite call by its result code and phrases it for the user.
    /// - Parameters:
    ///   - code: the extended result code the call returned.
    ///   - message: `sqlite3_errmsg` for the connection (or `sqlite3_errstr(code)` without one).
    ///   - operation: what was being done, e.g. "reading the sessions".
    static func sqlite(code: Int32, message: String, path: String, operation: String) -> RegistryError {
        let primary = code & 0xff
        let text: String
        let kind: Code
        switch primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            kind = .busy
            text =
                "the registry at \(path) is locked by another ccorc process (\(message)) while \(operation); retry in a moment"
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            kind = .corrupt
            text =
                "the registry at \(path) is corrupt (\(message)) while \(operation); run `ccorc recover` after moving it aside"
        case SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_READONLY, SQLITE_PERM, SQLITE_NOLFS, SQLITE_AUTH:
            kind = .io
            text =
                "cannot use the registry at \(path) (\(message)) while \(operation); check its permissions and free disk space"
        default:
            kind = .other
            text = "registry error while \(operation): \(message) (SQLite code \(code))"
        }
        return RegistryError(kind, text, sqliteCode: code, sqliteMessage: message, path: path)
    }
}
