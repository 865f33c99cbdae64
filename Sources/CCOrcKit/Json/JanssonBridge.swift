import CShims
import Dispatch
import Synchronization

// The only file that touches jansson's pointers. Parsing (after an optional projection of the
// text, see CShims/include/json_projection.h) converts the whole tree into `JSONValue` and
// releases it before returning; no `json_t *` escapes. Writing JSON needs no tree of jansson
// nodes and lives in JSONWriter.swift.

extension JSONValue {
    /// Parses JSON text with jansson (`json_loadb`).
    /// - Parameter projection: for a top-level array of objects, the parts of each element to keep
    ///   (list replies carry much a caller never reads); they are cut out of the text before jansson
    ///   parses it. Text that is not such an array is parsed whole. Nil keeps everything.
    /// - Throws: `JSONError` with jansson's message for malformed or truncated text.
    public static func parse(_ bytes: [UInt8], projection: JSONProjection? = nil) throws(JSONError) -> JSONValue {
        guard let projection, let (projected, parts) = project(bytes, projection) else {
            return try load(bytes)
        }
        guard parts.count > 1 else { return try load(projected) }
        // A large list is parsed in runs of whole elements, one per core.
        let results = Mutex([Result<JSONValue, JSONError>?](repeating: nil, count: parts.count))
        DispatchQueue.concurrentPerform(iterations: parts.count) { index in
            let result = Result { () throws(JSONError) in
                try load([UInt8(ascii: "[")] + projected[parts[index]] + [UInt8(ascii: "]")])
            }
            results.withLock { $0[index] = result }
        }
        var elements: [JSONValue] = []
        for result in results.withLock({ $0 }) {
            elements += try result!.get().array ?? []
        }
        return .array(elements)
    }

    /// Replies this large are parsed on several cores.
    static let parallelParseThreshold = 256 * 1024

    /// The projected text and the ranges of its elements to parse as separate arrays (one range,
    /// the whole text, for a small reply), or nil when `bytes` is not an array of objects (or is
    /// malformed, which jansson then reports on the original).
    private static func project(_ bytes: [UInt8], _ projection: JSONProjection) -> ([UInt8], [Range<Int>])? {
        guard !bytes.isEmpty else { return nil }
        let members = projection.members.map { $0 + "\n" }.joined()
        let nestedKeys = projection.nestedKeys.map { $0 + "\n" }.joined()
        let cores = ProcessEnvironment.activeProcessorCount
        var cuts = [Int](repeating: 0, count: bytes.count >= parallelParseThreshold ? max(cores - 1, 0) : 0)
        var written = -1
        // The projection never writes more than it reads.
        let projected = [UInt8](unsafeUninitializedCapacity: bytes.count) { output, count in
            written = bytes.withUnsafeBufferPointer { input in
                input.withMemoryRebound(to: CChar.self) { text in
                    output.withMemoryRebound(to: CChar.self) { out in
                        cuts.withUnsafeMutableBufferPointer { offsets in
                            Int(
                                cshims_json_project(
                                    text.baseAddress!, text.count, members, projection.nestedMember, nestedKeys,
                                    out.baseAddress!,
                                    offsets.baseAddress, offsets.count))
                        }
                    }
                }
            }
            count = max(written, 0)
        }
        guard written >= 0 else { return nil }
        // Runs of whole elements between "[" and "]": each cut is where an element starts, and the
        // comma before it ends the previous run.
        let starts = [1] + Set(cuts.filter { $0 > 1 }).sorted()
        let ends = starts.dropFirst().map { $0 - 1 } + [projected.count - 1]
        let parts = zip(starts, ends).map { $0..<$1 }.filter { !$0.isEmpty }
        return (projected, parts.count > 1 ? parts : [0..<projected.count])
    }

    private static func load(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var errorText = [CChar](repeating: 0, count: 256)
        // jansson needs a valid pointer even for an empty buffer; a reply is parsed in place.
        let source = bytes.isEmpty ? [0] : bytes
        let root: UnsafeMutablePointer<json_t>? = source.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                cshims_json_loadb(chars.baseAddress!, bytes.count, &errorText, errorText.count)
            }
        }
        guard let root else {
            throw JSONError(
                message: String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { cshims_json_decref(root) }
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
}
