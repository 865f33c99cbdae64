import CShims

// The only file that touches jansson's pointers. Parsing converts the whole tree into
// `JSONValue` and releases it before returning; serialising builds a temporary tree, dumps it,
// and releases it. No `json_t *` escapes either function.

extension JSONValue {
    /// Parses JSON text with jansson (`json_loadb`).
    /// - Parameter elementKeys: for a top-level array of objects, the only members of each element
    ///   to convert (list replies carry much a caller never reads); nil converts everything.
    /// - Throws: `JSONError` with jansson's message for malformed or truncated text.
    public static func parse(_ bytes: [UInt8], elementKeys: Set<String>? = nil) throws(JSONError) -> JSONValue {
        var errorText = [CChar](repeating: 0, count: 256)
        // jansson needs a valid pointer even for an empty buffer; a reply is parsed in place.
        let source = bytes.isEmpty ? [0] : bytes
        let root: UnsafeMutablePointer<json_t>? = source.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                cshims_json_loadb(chars.baseAddress!, bytes.count, &errorText, errorText.count)
            }
        }
        guard let root else {
            throw JSONError(message: String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { cshims_json_decref(root) }
        if let elementKeys, cshims_json_typeof(root) == JSON_ARRAY {
            let count = json_array_size(root)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                guard let element = json_array_get(root, index) else { continue }
                guard cshims_json_typeof(element) == JSON_OBJECT else {
                    elements.append(convert(element))
                    continue
                }
                var members: [String: JSONValue] = [:]
                for key in elementKeys {
                    if let member = json_object_get(element, key) { members[key] = convert(member) }
                }
                elements.append(.object(members))
            }
            return .array(elements)
        }
        return convert(root)
    }

    /// Parses JSON text given as a string.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private static func convert(_ node: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch cshims_json_typeof(node) {
        case JSON_OBJECT:
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(Int(json_object_size(node)))
            var iterator = json_object_iter(node)
            while let current = iterator {
                let key = String(cString: cshims_json_object_iter_key(current))
                if let value = json_object_iter_value(current) {
                    members[key] = convert(value)
                }
                iterator = json_object_iter_next(node, current)
            }
            return .object(members)
        case JSON_ARRAY:
            let count = json_array_size(node)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                if let element = json_array_get(node, index) { elements.append(convert(element)) }
            }
            return .array(elements)
        case JSON_STRING:
            let length = cshims_json_string_length(node)
            let bytes = UnsafeRawBufferPointer(start: cshims_json_string_value(node), count: length)
            return .string(String(decoding: bytes, as: UTF8.self))
        case JSON_INTEGER:
            return .int(cshims_json_integer_value(node))
        case JSON_REAL:
            return .double(json_real_value(node))
        case JSON_TRUE:
            return .bool(true)
        case JSON_FALSE:
            return .bool(false)
        default:
            return .null
        }
    }

    /// Serialises with jansson (`json_dumps`), keys sorted.
    /// - Parameter indent: 0 for compact output, otherwise spaces per level.
    public func serialized(indent: Int = 0) -> String {
        guard let node = JSONValue.build(self) else { return "null" }
        defer { cshims_json_decref(node) }
        guard let text = cshims_json_dumps(node, Int32(indent)) else { return "null" }
        defer { cshims_free(text) }
        return String(cString: text)
    }

    /// Serialises compactly into bytes, for request bodies.
    public func serializedBytes() -> [UInt8] {
        Array(serialized().utf8)
    }

    private static func build(_ value: JSONValue) -> UnsafeMutablePointer<json_t>? {
        switch value {
        case .null:
            return cshims_json_null()
        case .bool(let flag):
            return cshims_json_bool(flag ? 1 : 0)
        case .int(let number):
            return cshims_json_integer(number)
        case .double(let number):
            return json_real(number)
        case .string(let text):
            var copy = text
            return copy.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    chars.baseAddress.map { json_stringn_nocheck($0, chars.count) } ?? json_string("")
                }
            }
        case .array(let elements):
            guard let array = json_array() else { return nil }
            for element in elements {
                if let child = build(element) { json_array_append_new(array, child) }
            }
            return array
        case .object(let members):
            guard let object = json_object() else { return nil }
            for (key, member) in members {
                if let child = build(member) { json_object_set_new_nocheck(object, key, child) }
            }
            return object
        }
    }
}
