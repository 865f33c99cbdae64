import Foundation

/// Writes POSIX ustar archives in memory: what the engine's image import and build endpoints take.
public struct TarWriter {
    /// The archive so far (without the end-of-archive blocks until `finish`).
    public private(set) var bytes: [UInt8] = []

    /// An empty archive.
    public init() {}

    /// Adds a regular file, owned by `uid`:`gid` (root by default).
    public mutating func addFile(
        _ path: String, contents: [UInt8], mode: Int = 0o644, uid: Int = 0, gid: Int = 0, modified: Date = Date(timeIntervalSince1970: 0)
    ) throws {
        try appendHeader(path: path, type: "0", size: contents.count, mode: mode, uid: uid, gid: gid, linkTarget: "", modified: modified)
        bytes += contents
        bytes += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }

    /// Adds a directory, owned by `uid`:`gid` (root by default).
    public mutating func addDirectory(
        _ path: String, mode: Int = 0o755, uid: Int = 0, gid: Int = 0, modified: Date = Date(timeIntervalSince1970: 0)
    ) throws {
        try appendHeader(
            path: path.hasSuffix("/") ? path : path + "/", type: "5", size: 0, mode: mode, uid: uid, gid: gid, linkTarget: "", modified: modified)
    }

    /// Adds a symbolic link to `target`.
    public mutating func addSymlink(_ path: String, target: String) throws {
        try appendHeader(path: path, type: "2", size: 0, mode: 0o777, uid: 0, gid: 0, linkTarget: target, modified: Date(timeIntervalSince1970: 0))
    }

    /// Ends the archive with two zero blocks and returns it.
    public mutating func finish() -> [UInt8] {
        bytes += [UInt8](repeating: 0, count: 1024)
        return bytes
    }

    /// Archives a directory tree (files, directories, symlinks; owners become root).
    public static func archive(directory: String) throws -> [UInt8] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TarError(message: "\(directory) is not a directory")
        }
        var writer = TarWriter()
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        guard let enumerator = manager.enumerator(atPath: root) else {
            throw TarError(message: "cannot read \(directory)")
        }
        var relativePaths: [String] = []
        while let relative = enumerator.nextObject() as? String { relativePaths.append(relative) }
        for relative in relativePaths.sorted() {
            let full = root + "/" + relative
            let attributes = try manager.attributesOfItem(atPath: full)
            let mode = (attributes[.posixPermissions] as? Int) ?? 0o644
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?:
                try writer.addDirectory(relative, mode: mode)
            case .typeSymbolicLink?:
                try writer.addSymlink(relative, target: try manager.destinationOfSymbolicLink(atPath: full))
            case .typeRegular?:
                guard let data = manager.contents(atPath: full) else { throw TarError(message: "cannot read \(full)") }
                try writer.addFile(relative, contents: Array(data), mode: mode)
            default:
                continue  // sockets, devices and fifos have no place in an image context
            }
        }
        return writer.finish()
    }

    private mutating func appendHeader(
        path: String, type: Character, size: Int, mode: Int, uid: Int, gid: Int, linkTarget: String, modified: Date
    ) throws {
        var name = Array(path.utf8)
        var prefix: [UInt8] = []
        if name.count > 100 {
            // ustar splits long paths at a slash into a 155-byte prefix and a 100-byte name.
            guard let split = name.indices.filter({ name[$0] == UInt8(ascii: "/") && $0 <= 155 && name.count - $0 - 1 <= 100 }).last else {
                throw TarError(message: "path too long for a tar archive: \(path)")
            }
            prefix = Array(name[..<split])
            name = Array(name[(split + 1)...])
        }
        guard linkTarget.utf8.count <= 100 else { throw TarError(message: "link target too long: \(linkTarget)") }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ field: [UInt8], at offset: Int) { header.replaceSubrange(offset..<offset + field.count, with: field) }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(mode & 0o7777, width: 8), at: 100)
        put(octal(uid, width: 8), at: 108)
        put(octal(gid, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(Int(modified.timeIntervalSince1970), width: 12), at: 136)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        header[156] = UInt8(ascii: type.unicodeScalars.first!)
        put(Array(linkTarget.utf8), at: 157)
        put(Array("ustar\u{0}00".utf8), at: 257)
        // Owner names only for root: the numeric IDs are what an image's files keep.
        if uid == 0 { put(Array("root".utf8), at: 265) }
        if gid == 0 { put(Array("root".utf8), at: 297) }
        put(prefix, at: 345)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array((String(repeating: "0", count: max(0, 6 - String(checksum, radix: 8).count)) + String(checksum, radix: 8)).utf8) + [0, UInt8(ascii: " ")], at: 148)
        bytes += header
    }
}

/// A tree could not be archived.
public struct TarError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var message: String
    public var description: String { message }
}
