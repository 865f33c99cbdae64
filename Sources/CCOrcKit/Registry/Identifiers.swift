/// The naming rule shared by session names and agent roles.
///
/// tmux forbids `.` and `:` in session names, and Docker container names must fit `NAME-ROLE`
/// (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`); the intersection, capped at 63 characters so that a DNS label or
/// a hostname built from either still fits, is 1-63 of `[A-Za-z0-9_-]` starting with a letter or digit.
enum RegistryIdentifierRule {
    static let maximumLength = 63
    static let text = "1-63 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit"

    static func isValid(_ value: String) -> Bool {
        let bytes = value.utf8
        guard let first = bytes.first, bytes.count <= maximumLength, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static func validate(_ value: String, kind: String) throws(RegistryError) {
        guard isValid(value) else {
            throw RegistryError(.invalidName, "invalid \(kind) \(quoted(value)): must be \(text)")
        }
    }

    /// Quotes a rejected value so that spaces, control characters and hostile shell text are
    /// visible and harmless in the message.
    private static func quoted(_ value: String) -> String {
        let shown = value.count > 80 ? String(value.prefix(80)) + "…" : value
        var result = "\""
        for scalar in shown.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// An identifier validated by `RegistryIdentifierRule`; session names and agent roles share it.
public protocol RegistryIdentifier: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Codable
where RawValue == String {
    /// What the identifier is called in error messages ("session name").
    static var kind: String { get }
}

extension RegistryIdentifier {
    /// Validates `value`.
    /// - Throws: `RegistryError` with code `.invalidName`, naming the value and the rule.
    public init(_ value: String) throws(RegistryError) {
        try RegistryIdentifierRule.validate(value, kind: Self.kind)
        // Valid by the check above, which is the same rule `init?(rawValue:)` applies.
        self.init(rawValue: value)!
    }

    /// True when `value` would be accepted.
    public static func isValid(_ value: String) -> Bool { RegistryIdentifierRule.isValid(value) }

    /// The naming rule in words, for help texts.
    public static var rule: String { RegistryIdentifierRule.text }

    /// The identifier itself.
    public var description: String { rawValue }

    /// Orders by the raw string, as `ccorc list` sorts.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes a string and validates it, so a bad name in a file is refused like one on the command line.
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(String.self)
        try self.init(value)
    }

    /// Encodes the identifier as a plain string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The name of a team session: also its tmux session name and the prefix of its containers.
///
/// Validated on construction: 1-63 characters of `[A-Za-z0-9_-]`, starting with a letter or digit.
public struct SessionName: RegistryIdentifier {
    /// The validated name.
    public let rawValue: String
    /// Used in error messages.
    public static let kind = "session name"

    /// Validates `rawValue`; nil when it breaks the rule.
    public init?(rawValue: String) {
        guard RegistryIdentifierRule.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }
}

/// The role of one agent in a team session (`leader`, `researcher`, ...): the suffix of its
/// container name `SESSION-ROLE` and the name of its tmux window.
///
/// Validated on construction by the same rule as `SessionName`.
public struct AgentRole: RegistryIdentifier {
    /// The validated role.
    public let rawValue: String
    /// Used in error messages.
    public static let kind = "agent role"

    /// Validates `rawValue`; nil when it breaks the rule.
    public init?(rawValue: String) {
        guard RegistryIdentifierRule.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }
}
