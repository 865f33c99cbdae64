/// Encodes tar member headers: POSIX ustar, preceded by a PAX extended header (type 'x') for each
/// value ustar cannot hold. Both the in-memory `TarWriter` and the streaming `DirectoryArchiver`
/// write their headers here.
///
/// ustar's numeric fields are octal text of fixed width, so a path over 100 bytes (or 255 with the
/// 155-byte prefix), a link target over 100 bytes, a size of 8 GiB or more, an ID of 2097152 or more
/// and a time before 1970 or after 2242 go into PAX records (`path`, `linkpath`, `size`, `uid`,
/// `gid`, `mtime`), which GNU tar, Go's archive/tar (the engine) and libarchive all read.
public enum TarHeader {
    /// The tar block size; headers and contents are padded to it.
    public static let blockSize = 512

    /// The two zero blocks that end an archive.
    public static let endOfArchive = [UInt8](repeating: 0, count: 1024)

    /// The zero bytes that pad `size` content bytes to a whole block.
    public static func padding(after size: Int64) -> Int {
        Int((Int64(blockSize) - size % Int64(blockSize)) % Int64(blockSize))
    }

    /// The header block(s) for `entry`: a PAX extended header and its records when needed, then
    /// the ustar header. Contents (for regular files) and their padding are the caller's to write.
    /// - Throws: `TarError.unrepresentable` for an empty path, a NUL byte, a negative ID or size.
    public static func encode(_ entry: TarEntry) throws(TarError) -> [UInt8] {
        guard !entry.path.isEmpty, !entry.path.contains(0) else {
            throw TarError(
                .unrepresentable,
                "a tar member needs a path without NUL bytes: \(String(decoding: entry.path, as: UTF8.self))")
        }
        guard entry.uid >= 0, entry.gid >= 0, entry.contentSize >= 0 else {
            throw TarError(
                .unrepresentable, "negative owner or size for \(String(decoding: entry.path, as: UTF8.self))")
        }
        var path = entry.path
        if entry.kind == .directory, path.last != slash { path.append(slash) }

        var records: [(key: String, value: [UInt8])] = []
        let name: [UInt8]
        let prefix: [UInt8]
        if let split = split(path) {
            (name, prefix) = split
        } else {
            records.append(("path", path))
            (name, prefix) = (Array(path.prefix(100)), [])
        }
        var linkTarget: [UInt8] = []
        switch entry.kind {
        case .hardLink(let target), .symbolicLink(let target):
            guard !target.contains(0) else {
                throw TarError(
                    .unrepresentable, "a link target with a NUL byte: \(String(decoding: entry.path, as: UTF8.self))")
            }
            linkTarget = target
            if target.count > 100 {
                records.append(("linkpath", target))
                linkTarget = Array(target.prefix(100))
            }
        default: break
        }
        func fits(_ value: Int64, width: Int) -> Bool { value >= 0 && value <= maximum(width: width) }
        func numeric(_ key: String, _ value: Int64, width: Int) -> Int64 {
            if fits(value, width: width) { return value }
            records.append((key, Array(String(value).utf8)))
            return 0
        }
        let size = numeric("size", entry.contentSize, width: 12)
        let uid = numeric("uid", Int64(entry.uid), width: 8)
        let gid = numeric("gid", Int64(entry.gid), width: 8)
        let modified = numeric("mtime", entry.modified, width: 12)

        var block = HeaderBlock()
        block.put(name, at: 0, width: 100)
        block.octal(Int64(entry.mode & 0o7777), at: 100, width: 8)
        block.octal(uid, at: 108, width: 8)
        block.octal(gid, at: 116, width: 8)
        block.octal(size, at: 124, width: 12)
        block.octal(modified, at: 136, width: 12)
        block.bytes[156] = typeFlag(entry.kind)
        block.put(linkTarget, at: 157, width: 100)
        block.put(Array("ustar\u{0}00".utf8), at: 257, width: 8)
        // Names only for root, as before: the numeric IDs are what an image's files keep.
        if entry.uid == 0 { block.put(Array("root".utf8), at: 265, width: 32) }
        if entry.gid == 0 { block.put(Array("root".utf8), at: 297, width: 32) }
        switch entry.kind {
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            guard fits(Int64(major), width: 8), fits(Int64(minor), width: 8) else {
                throw TarError(
                    .unrepresentable, "device numbers too large for tar: \(String(decoding: entry.path, as: UTF8.self))"
                )
            }
            block.octal(Int64(major), at: 329, width: 8)
            block.octal(Int64(minor), at: 337, width: 8)
        default: break
        }
        block.put(prefix, at: 345, width: 155)
        block.sealChecksum()

        guard !records.isEmpty else { return block.bytes }
        return extendedHeader(records, for: path, modified: fits(entry.modified, width: 12) ? entry.modified : 0)
            + block.bytes
    }

    /// The PAX extended header member that carries `records` for the member at `path`.
    private static func extendedHeader(
        _ records: [(key: String, value: [UInt8])], for path: [UInt8], modified: Int64
    ) -> [UInt8] {
        var data: [UInt8] = []
        for (key, value) in records { data += record(key, value) }
        // The member's own name is informative only; GNU tar and Go write the same shape.
        let base = path.last == slash ? Array(path.dropLast()) : path
        let lastComponent = base.split(separator: slash, omittingEmptySubsequences: false).last.map(Array.init) ?? base
        var block = HeaderBlock()
        block.put(Array(("PaxHeaders/").utf8) + lastComponent.prefix(100 - 11), at: 0, width: 100)
        block.octal(0o644, at: 100, width: 8)
        block.octal(0, at: 108, width: 8)
        block.octal(0, at: 116, width: 8)
        block.octal(Int64(data.count), at: 124, width: 12)
        block.octal(modified, at: 136, width: 12)
        block.bytes[156] = UInt8(ascii: "x")
        block.put(Array("ustar\u{0}00".utf8), at: 257, width: 8)
        block.sealChecksum()
        return block.bytes + data + [UInt8](repeating: 0, count: padding(after: Int64(data.count)))
    }

    /// One PAX record, `"LEN key=value\n"`, where LEN counts the whole record including itself.
    static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let rest = key.utf8.count + value.count + 3  // the space, '=' and '\n'
        var length = rest + 1
        while rest + String(length).count != length { length = rest + String(length).count }
        return Array("\(length) \(key)=".utf8) + value + [UInt8(ascii: "\n")]
    }

    /// Splits a path into ustar's 100-byte name and 155-byte prefix at a slash, or nil when it
    /// cannot be split so.
    static func split(_ path: [UInt8]) -> (name: [UInt8], prefix: [UInt8])? {
        if path.count <= 100 { return (path, []) }
        // The slash that ends the prefix is not stored; a directory's own trailing slash never splits.
        for index in path.indices.reversed() where path[index] == slash && index > 0 && index < path.count - 1 {
            let nameLength = path.count - index - 1
            if nameLength > 100 { return nil }
            if index <= 155 { return (Array(path[(index + 1)...]), Array(path[..<index])) }
        }
        return nil
    }

    private static let slash = UInt8(ascii: "/")

    /// The largest value an octal field of `width` bytes holds (the last byte is a NUL).
    private static func maximum(width: Int) -> Int64 { (Int64(1) << (3 * Int64(width - 1))) - 1 }

    private static func typeFlag(_ kind: TarEntry.Kind) -> UInt8 {
        switch kind {
        case .regularFile: return UInt8(ascii: "0")
        case .hardLink: return UInt8(ascii: "1")
        case .symbolicLink: return UInt8(ascii: "2")
        case .characterDevice: return UInt8(ascii: "3")
        case .blockDevice: return UInt8(ascii: "4")
        case .directory: return UInt8(ascii: "5")
        case .fifo: return UInt8(ascii: "6")
        }
    }
}

/// One 512-byte header block being filled in.
private struct HeaderBlock {
    var bytes = [UInt8](repeating: 0, count: TarHeader.blockSize)

    mutating func put(_ field: [UInt8], at offset: Int, width: Int) {
        precondition(field.count <= width, "tar header field overflows its width")
        bytes.replaceSubrange(offset..<offset + field.count, with: field)
    }

    /// Zero-padded octal digits and a terminating NUL; the caller has checked that the value fits.
    mutating func octal(_ value: Int64, at offset: Int, width: Int) {
        let digits = Array(String(value, radix: 8).utf8)
        put(
            [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - digits.count) + digits + [0], at: offset,
            width: width)
    }

    /// Writes the checksum: the sum of all bytes with the checksum field read as spaces, as six
    /// octal digits, a NUL and a space.
    mutating func sealChecksum() {
        bytes.replaceSubrange(148..<156, with: [UInt8](repeating: UInt8(ascii: " "), count: 8))
        let sum = bytes.reduce(0) { $0 + Int64($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        bytes.replaceSubrange(
            148..<156,
            with: [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, UInt8(ascii: " ")])
    }
}
