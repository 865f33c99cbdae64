/// A JSON document as plain Swift values.
///
/// Replies from the engine are parsed by jansson (see `JanssonBridge.swift`) and converted into
/// this enum at once, so that no jansson pointer outlives the parse and the rest of the driver
/// works with value types only.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object; nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string value; nil for any other kind.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer value (a double with no fraction is accepted); nil for any other kind.
    public var int: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9e18: return Int64(value)
        default: return nil
        }
    }

    /// The numeric value as a double; nil for a non-number.
    public var double: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The boolean value; nil for any other kind.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements of an array; nil for any other kind.
    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members of an object; nil for any other kind.
    public var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// True for `null`.
    public var isNull: Bool { self == .null }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// Builds a string map (labels, filters) as a JSON object.
    public init(strings: [String: String]) {
        self = .object(strings.mapValues { .string($0) })
    }

    /// Builds a list of strings as a JSON array.
    public init(strings: [String]) {
        self = .array(strings.map { .string($0) })
    }

    /// The members of an object whose values are strings; nil for a non-object.
    public var stringMap: [String: String]? {
        guard let members = object else { return nil }
        return members.compactMapValues { $0.string }
    }

    /// The elements of an array that are strings; nil for a non-array.
    public var stringArray: [String]? {
        array?.compactMap { $0.string }
    }
}

/// A JSON text could not be parsed or built.
public struct JSONError: Error, CustomStringConvertible, Sendable {
    /// jansson's description of what is wrong, with line and column.
    public var message: String
    public var description: String { "invalid JSON: \(message)" }
}

/// The parts of a list reply worth parsing: for a top-level array of objects, the members of each
/// element to keep, and optionally one member (an object, such as `Labels`) of which only some
/// keys are kept. Everything else is skipped before jansson sees the text.
public struct JSONProjection: Sendable, Equatable {
    /// The members kept in each element.
    public var members: Set<String>
    /// The member whose value is itself projected onto `nestedKeys`; nil keeps every member whole.
    public var nestedMember: String?
    /// The keys kept inside `nestedMember`.
    public var nestedKeys: Set<String>

    /// Keeps `members` of each element, and only `nestedKeys` inside `nestedMember` when given.
    public init(members: Set<String>, nestedMember: String? = nil, nestedKeys: Set<String> = []) {
        self.members = members
        self.nestedMember = nestedMember
        self.nestedKeys = nestedKeys
    }
}
