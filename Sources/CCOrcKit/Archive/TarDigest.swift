/// A summary of a tar stream, fed chunk by chunk as it arrives: how many members and content
/// bytes it holds and, when asked for, a 64-bit FNV-1a hash over each member's path, type, mode,
/// owner, group, modification time, link target, size and contents.
///
/// Two archives of the same tree give the same digest whatever their header encoding (ustar or
/// PAX) and chunking. The hash detects accidental damage (a truncated or reordered copy, a lost
/// file, a changed mode or owner); it is not cryptographic and does not detect tampering.
public struct TarDigest: Sendable, Equatable, CustomStringConvertible {
    /// Members other than directories: files, links, devices.
    public private(set) var fileCount = 0
    /// Directories.
    public private(set) var directoryCount = 0
    /// The sum of regular files' sizes.
    public private(set) var contentBytes: Int64 = 0
    /// The FNV-1a hash; 0 when contents are not hashed.
    public private(set) var hash: UInt64 = 0

    private var hashing: Bool
    private var parser = Parser()

    /// An empty digest.
    /// - Parameter hashingContents: false only counts members and bytes (cheap enough to run
    ///   beside a copy); true also hashes every header field and every content byte.
    public init(hashingContents: Bool = true) {
        hashing = hashingContents
        hash = hashingContents ? FNV1a.offsetBasis : 0
    }

    /// Whether the end-of-archive blocks were seen.
    public var isComplete: Bool { parser.ended }

    public var description: String {
        "\(fileCount) files, \(directoryCount) directories, \(contentBytes) bytes"
            + (hashing ? ", fnv1a64 \(String(hash, radix: 16))" : "")
    }

    public static func == (left: TarDigest, right: TarDigest) -> Bool {
        (left.fileCount, left.directoryCount, left.contentBytes, left.hash)
            == (right.fileCount, right.directoryCount, right.contentBytes, right.hash)
    }

    /// Adds the next bytes of the stream.
    /// - Throws: `TarError` for a header whose checksum does not match.
    public mutating func feed(_ chunk: [UInt8]) throws {
        var index = 0
        while index < chunk.count && !parser.ended {
            switch parser.state {
            case .header:
                let take = min(512 - parser.block.count, chunk.count - index)
                parser.block += chunk[index..<index + take]
                index += take
                guard parser.block.count == 512 else { continue }
                let block = parser.block
                parser.block.removeAll(keepingCapacity: true)
                defer { parser.offset += 512 }
                guard let header = try TarReader.Header(block[...], at: parser.offset, extended: parser.extended) else {
                    parser.ended = true
                    break
                }
                begin(header)
            case .contents(let left, let padding, let extendedHeader):
                let take = Int(min(Int64(chunk.count - index), left))
                let piece = chunk[index..<index + take]
                index += take
                parser.offset += take
                if extendedHeader {
                    parser.paxBody += piece
                } else if hashing {
                    hash = FNV1a.add(piece, to: hash)
                }
                if left - Int64(take) > 0 {
                    parser.state = .contents(left: left - Int64(take), padding: padding, extended: extendedHeader)
                } else {
                    if extendedHeader {
                        parser.extended = TarReader.parsePAX(parser.paxBody)
                        parser.paxBody = []
                    }
                    parser.state = padding > 0 ? .padding(padding) : .header
                }
            case .padding(let left):
                let take = min(left, chunk.count - index)
                index += take
                parser.offset += take
                parser.state = left - take > 0 ? .padding(left - take) : .header
            }
        }
    }

    private mutating func begin(_ header: TarReader.Header) {
        let size = Int64(max(header.size, 0))
        let padding = Int((512 - size % 512) % 512)
        switch header.type {
        case "x":
            parser.state = size > 0 ? .contents(left: size, padding: padding, extended: true) : .header
            return
        case "g":
            parser.state = size > 0 ? .padding(Int(size) + padding) : .header
            return
        default:
            break
        }
        parser.extended = [:]
        if header.type == "5" { directoryCount += 1 } else { fileCount += 1 }
        if header.type == "0" { contentBytes += size }
        if hashing {
            // Fields separated by NUL, which no path or number contains.
            let fields: [String] = [
                header.path, String(header.type), String(header.mode, radix: 8), String(header.uid), String(header.gid),
                String(header.modified), header.linkTarget, String(size),
            ]
            for field in fields { hash = FNV1a.add(Array(field.utf8) + [0], to: hash) }
        }
        let contents = header.type == "0" || header.type == "7" ? size : 0
        parser.state = contents > 0 ? .contents(left: contents, padding: padding, extended: false) : .header
    }

    /// Where the parser is between chunks.
    private struct Parser: Sendable {
        enum State: Sendable {
            case header
            case contents(left: Int64, padding: Int, extended: Bool)
            case padding(Int)
        }
        var state = State.header
        var block: [UInt8] = []
        var offset = 0
        var extended: [String: String] = [:]
        var paxBody: [UInt8] = []
        var ended = false
    }
}

/// The 64-bit FNV-1a hash (Fowler, Noll, Vo): fast, simple, not cryptographic.
enum FNV1a {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x100_0000_01b3

    /// `hash` extended by `bytes`.
    static func add<Bytes: Sequence<UInt8>>(_ bytes: Bytes, to hash: UInt64) -> UInt64 {
        var value = hash
        for byte in bytes { value = (value ^ UInt64(byte)) &* prime }
        return value
    }
}
