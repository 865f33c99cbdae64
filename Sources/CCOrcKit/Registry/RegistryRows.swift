/// What a registry-wide read found: the sessions whose rows decode and the rows that do not.
public struct RegistryRows: Sendable, Equatable {
    /// Every session whose row decodes, by name, with its agents.
    public var sessions: [SessionRecord]
    /// The rows that could not be decoded, by stored key; they were left out of `sessions`.
    public var damaged: [DamagedRegistryRow]

    /// Creates a result; see the properties.
    public init(sessions: [SessionRecord], damaged: [DamagedRegistryRow]) {
        self.sessions = sessions
        self.damaged = damaged
    }
}

/// A registry row that cannot be decoded: a name that breaks the naming rule, an unknown status,
/// a JSON column that does not parse, or an agent with an invalid role.
public struct DamagedRegistryRow: Error, Sendable, Equatable, CustomStringConvertible {
    /// The row's key as stored (its `name` column), which need not be a valid session name.
    public var key: String
    /// What is wrong with it, e.g. "bad config" or "unknown status".
    public var reason: String

    /// Creates a description of a damaged row.
    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    /// The command that drops the row, with the key quoted for a shell where it needs it.
    public var forgetCommand: String { "ccorc forget \(Self.shellQuoted(key))" }

    /// One line for a registry-wide command that skipped the row.
    public var warning: String {
        "registry row \"\(key)\" is damaged (\(reason)) and was skipped; drop it with `\(forgetCommand)`"
    }

    /// `warning`.
    public var description: String { warning }

    static func shellQuoted(_ text: String) -> String {
        let plain =
            !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        return plain ? text : "'" + text.replacing("'", with: "'\\''") + "'"
    }
}

extension RegistryError {
    /// A named row that cannot be decoded, read on its own (`info`, `health`, `resume`, `stop NAME`).
    static func damagedRow(_ row: DamagedRegistryRow, path: String) -> RegistryError {
        RegistryError(
            .corrupt,
            "the registry row \"\(row.key)\" is damaged (\(row.reason)); drop it with `\(row.forgetCommand)`",
            path: path)
    }
}
