import FoundationEssentials

/// Writes tar archives in memory: small archives a program makes itself (the busybox root
/// filesystem, test fixtures). To archive a directory tree, stream it with `DirectoryArchiver`
/// instead; `EngineClient.importImage(directory:...)` and `buildImage(contextDirectory:...)` do.
///
/// Headers are `TarHeader`'s: ustar, with PAX records for what ustar cannot hold.
public struct TarWriter {
    /// The archive so far (without the end-of-archive blocks until `finish`).
    public private(set) var bytes: [UInt8] = []

    /// An empty archive.
    public init() {}

    /// Adds a regular file, owned by `uid`:`gid` (root by default).
    public mutating func addFile(
        _ path: String, contents: [UInt8], mode: Int = 0o644, uid: Int = 0, gid: Int = 0,
        modified: Date = Date(timeIntervalSince1970: 0)
    ) throws {
        try append(
            TarEntry(
                path, kind: .regularFile(size: Int64(contents.count)), mode: mode, uid: uid, gid: gid,
                modified: Self.seconds(modified)), contents: contents)
    }

    /// Adds a directory, owned by `uid`:`gid` (root by default).
    public mutating func addDirectory(
        _ path: String, mode: Int = 0o755, uid: Int = 0, gid: Int = 0, modified: Date = Date(timeIntervalSince1970: 0)
    ) throws {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        try append(TarEntry(path, kind: .directory, mode: mode, uid: uid, gid: gid, modified: Self.seconds(modified)))
    }

    /// Adds a symbolic link to `target`, owned by `uid`:`gid` (root by default).
    public mutating func addSymlink(
        _ path: String, target: String, uid: Int = 0, gid: Int = 0, modified: Date = Date(timeIntervalSince1970: 0)
    ) throws {
        try append(
            TarEntry(
                path, kind: .symbolicLink(target: Array(target.utf8)), mode: 0o777, uid: uid, gid: gid,
                modified: Self.seconds(modified)))
    }

    /// Adds a hard link: a second path, `path`, to the file added earlier as `target`.
    public mutating func addHardLink(
        _ path: String, target: String, mode: Int = 0o644, uid: Int = 0, gid: Int = 0,
        modified: Date = Date(timeIntervalSince1970: 0)
    ) throws {
        try append(
            TarEntry(
                path, kind: .hardLink(target: Array(target.utf8)), mode: mode, uid: uid, gid: gid,
                modified: Self.seconds(modified)))
    }

    /// Adds any member; `contents` are a regular file's bytes and must have its size.
    public mutating func append(_ entry: TarEntry, contents: [UInt8] = []) throws {
        guard Int64(contents.count) == entry.contentSize else {
            throw TarError(
                .unrepresentable,
                "\(String(decoding: entry.path, as: UTF8.self)): \(contents.count) bytes of contents for a size of \(entry.contentSize)"
            )
        }
        bytes += try TarHeader.encode(entry)
        bytes += contents
        bytes += [UInt8](repeating: 0, count: TarHeader.padding(after: entry.contentSize))
    }

    /// Ends the archive with two zero blocks and returns it.
    public mutating func finish() -> [UInt8] {
        bytes += TarHeader.endOfArchive
        return bytes
    }

    /// Archives a directory tree into memory, as `DirectoryArchiver` streams it. The whole archive
    /// is held at once: for trees of any size, stream them instead.
    public static func archive(directory: String) throws -> [UInt8] {
        let archiver = try DirectoryArchiver(directory: directory)
        var archive: [UInt8] = []
        while let chunk = try archiver.nextChunk() { archive += chunk }
        return archive
    }

    /// Whole seconds since 1970, rounded down (tar keeps no fraction).
    private static func seconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }
}
