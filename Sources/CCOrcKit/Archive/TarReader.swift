/// Reads the tar archives the engine hands out (`GET /containers/{id}/archive`): ustar headers,
/// with PAX extended headers for long names and large sizes.
public struct TarReader {
    /// One member of an archive.
    public struct Entry: Sendable, Equatable {
        /// The member's path as archived.
        public var path: String
        /// The type flag: `0` file, `1` hard link, `2` symlink, `5` directory, ...
        public var type: Character
        /// Permission bits, setuid, setgid and sticky included.
        public var mode: Int
        /// Owner and group IDs.
        public var uid: Int, gid: Int
        /// Modification time, unix seconds.
        public var modified: Int
        /// Where a link points; empty otherwise.
        public var linkTarget: String
        /// A regular file's contents; empty for the other types.
        public var contents: [UInt8]
    }

    /// Every member of `archive`, in order.
    /// - Throws: `TarError` for a truncated archive or a header whose checksum does not match.
    public static func entries(_ archive: [UInt8]) throws -> [Entry] {
        var entries: [Entry] = []
        var offset = 0
        var extended: [String: String] = [:]
        while offset + 512 <= archive.count {
            guard let header = try Header(archive[offset..<offset + 512], at: offset, extended: extended) else { break }
            let start = offset + 512
            guard header.size >= 0, start + header.size <= archive.count else {
                throw TarError(message: "truncated tar member at byte \(offset)")
            }
            let body = Array(archive[start..<start + header.size])
            offset = start + (header.size + 511) / 512 * 512
            switch header.type {
            case "x":
                extended = parsePAX(body)
                continue
            case "g":
                continue
            default:
                break
            }
            entries.append(
                Entry(
                    path: header.path, type: header.type, mode: header.mode, uid: header.uid, gid: header.gid,
                    modified: header.modified, linkTarget: header.linkTarget, contents: header.type == "0" ? body : []))
            extended = [:]
        }
        return entries
    }

    /// One member's header block, with the PAX records that preceded it applied; shared by
    /// `entries` and the streaming `TarDigest`.
    struct Header {
        /// The member's path as archived.
        var path: String
        /// The type flag (`0` for a file, also when the block holds NUL there).
        var type: Character
        /// Permission bits, owner, group, modification time (unix seconds).
        var mode: Int, uid: Int, gid: Int, modified: Int
        /// Where a link points; empty otherwise.
        var linkTarget: String
        /// The number of content bytes after the header (rounded up to 512 in the archive).
        var size: Int

        /// Parses a 512-byte block; nil for a zero block (the end of the archive).
        /// - Parameter offset: where the block starts, for the error message.
        /// - Throws: `TarError` when the block's checksum does not match.
        init?(_ block: ArraySlice<UInt8>, at offset: Int, extended: [String: String]) throws {
            let header = Array(block)
            if header.allSatisfy({ $0 == 0 }) { return nil }
            let stored = TarReader.octal(header[148..<156])
            let computed = header.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
            guard stored == computed else { throw TarError(message: "corrupt tar header at byte \(offset)") }
            type = Character(Unicode.Scalar(header[156] == 0 ? UInt8(ascii: "0") : header[156]))
            size = Int(extended["size"] ?? "") ?? TarReader.number(header[124..<136])
            var path = TarReader.text(header[0..<100])
            if header[257..<262].elementsEqual("ustar".utf8), header[345] != 0 {
                path = TarReader.text(header[345..<500]) + "/" + path
            }
            self.path = extended["path"] ?? path
            mode = TarReader.number(header[100..<108])
            uid = Int(extended["uid"] ?? "") ?? TarReader.number(header[108..<116])
            gid = Int(extended["gid"] ?? "") ?? TarReader.number(header[116..<124])
            modified = Int(Double(extended["mtime"] ?? "") ?? Double(TarReader.number(header[136..<148])))
            linkTarget = extended["linkpath"] ?? TarReader.text(header[157..<257])
        }
    }

    private static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field, or GNU's base-256 form (high bit of the first byte set) for large values.
    private static func number(_ field: ArraySlice<UInt8>) -> Int {
        guard let first = field.first, first & 0x80 != 0 else { return octal(field) }
        return field.dropFirst().reduce(Int(first & 0x7F)) { $0 << 8 | Int($1) }
    }

    private static func octal(_ field: ArraySlice<UInt8>) -> Int {
        field.reduce(into: 0) { value, byte in
            if (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) {
                value = value * 8 + Int(byte - UInt8(ascii: "0"))
            }
        }
    }

    /// PAX records: `LENGTH KEY=VALUE\n`, LENGTH counting the whole record.
    static func parsePAX(_ body: [UInt8]) -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < body.count {
            guard let space = body[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: body[index..<space], as: UTF8.self)), length > 0,
                index + length <= body.count
            else { break }
            let record = body[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<equals], as: UTF8.self)] = String(
                    decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }
}
