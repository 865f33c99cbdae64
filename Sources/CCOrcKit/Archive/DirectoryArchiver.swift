/// Archives a directory tree as tar, piece by piece: each `nextChunk()` walks on and reads on only
/// as far as one chunk needs, so an upload can pull the archive while it is being made and memory
/// stays at a chunk or so whatever the tree's size.
///
/// The walk uses lstat(2) and readdir(3), follows no symbolic link below the root, and is
/// depth-first with each directory's names sorted bytewise, so the same tree always gives the same
/// archive. Member paths are relative to the root (`etc/passwd`); the root itself has no member.
/// What each file becomes is `TarEntry.init(path:status:linkTarget:earlierPath:)`: owners, modes,
/// mtimes, symbolic links, hard links, devices and fifos are kept, sockets skipped.
///
/// The tree is expected to stand still while it is read. When it does not, the next chunk throws a
/// `TarError` naming the path: `.unreadable` for a file or directory that cannot be opened or read,
/// `.changed` for a file whose size changed (or that was replaced) while it was read, `.vanished` for
/// a path listed in its directory but gone when the walk reached it. After an error the archiver
/// produces nothing more.
public final class DirectoryArchiver {
    /// The default size of a chunk.
    public static let defaultChunkSize = 1 << 20

    /// The directory being archived, as given.
    public let directory: String
    private let root: [UInt8]
    private let chunkSize: Int
    /// Paths (relative to the root) still to visit; the next one is last.
    private var pending: [[UInt8]] = []
    /// The first archived path of each file that has more than one link.
    private var firstPaths: [FileIdentity: [UInt8]] = [:]
    /// The regular file whose contents are being copied into the archive.
    private var reading: FileContentsRead?
    private var finished = false

    /// Opens the tree at `directory` and lists its top level; no chunk is made yet.
    /// - Parameter chunkSize: about how many bytes each chunk holds (headers may add a few blocks).
    /// - Throws: `TarError.notFound` or `.notADirectory` when `directory` is not a directory (a
    ///   symbolic link to one is followed), `.unreadable` when it cannot be listed.
    public init(directory: String, chunkSize: Int = DirectoryArchiver.defaultChunkSize) throws(TarError) {
        self.directory = directory
        self.chunkSize = max(chunkSize, TarHeader.blockSize)
        var root = Array(directory.utf8)
        while root.count > 1 && root.last == UInt8(ascii: "/") { root.removeLast() }
        self.root = root
        let status: FileStatus?
        do {
            status = try FileTree.status(root, followLinks: true)
        } catch {
            throw TarError(.unreadable, "cannot read \(directory): \(error.text)", path: directory, errno: error.errno)
        }
        guard let status else { throw TarError(.notFound, "\(directory): no such directory", path: directory) }
        guard status.type == .directory else {
            throw TarError(.notADirectory, "\(directory) is not a directory", path: directory)
        }
        do {
            pending = DirectoryArchiver.visitOrder(try FileTree.names(inDirectory: root, followLinks: true), under: [])
        } catch {
            throw TarError(.unreadable, "cannot read \(directory): \(error.text)", path: directory, errno: error.errno)
        }
    }

    /// The next piece of the archive, about `chunkSize` bytes; the last piece ends with the two
    /// end-of-archive blocks, and after it the result is nil.
    /// - Throws: `TarError` naming the path when the tree cannot be read as it was listed.
    public func nextChunk() throws(TarError) -> [UInt8]? {
        guard !finished else { return nil }
        var chunk = ChunkBuilder(capacity: chunkSize + 4 * TarHeader.blockSize)
        do {
            while chunk.count < chunkSize {
                if reading != nil {
                    try copyContents(into: &chunk)
                } else if let next = pending.popLast() {
                    try visit(next, into: &chunk)
                } else {
                    chunk.appendZeros(TarHeader.endOfArchive.count)
                    finished = true
                    break
                }
            }
        } catch {
            finished = true
            pending.removeAll()
            reading = nil
            throw error
        }
        return chunk.finish()
    }

    /// Writes the member(s) for one path; a directory's names join the walk, a regular file's
    /// contents follow in `copyContents`.
    private func visit(_ relative: [UInt8], into chunk: inout ChunkBuilder) throws(TarError) {
        let full = fullPath(relative)
        let found: FileStatus?
        do {
            found = try FileTree.status(full)
        } catch {
            throw unreadable(full, error)
        }
        guard let status = found else { throw vanished(full) }
        let earlierPath = TarEntry.mayBeHardLinked(status) ? firstPaths[status.identity] : nil
        var linkTarget: [UInt8] = []
        if earlierPath == nil {
            switch status.type {
            case .directory:
                let names: [[UInt8]]
                do {
                    names = try FileTree.names(inDirectory: full)
                } catch {
                    throw error.isNotFound ? vanished(full) : unreadable(full, error)
                }
                pending += DirectoryArchiver.visitOrder(names, under: relative)
            case .symbolicLink:
                do {
                    linkTarget = try FileTree.linkTarget(full)
                } catch {
                    throw error.isNotFound ? vanished(full) : unreadable(full, error)
                }
            case .regular:
                try startReading(relative, full: full, listed: status, into: &chunk)
                return
            default: break
            }
        }
        guard let entry = TarEntry(path: relative, status: status, linkTarget: linkTarget, earlierPath: earlierPath)
        else { return }
        if TarEntry.mayBeHardLinked(status) && earlierPath == nil { firstPaths[status.identity] = relative }
        chunk.append(try TarHeader.encode(entry))
    }

    /// Opens a regular file and writes its header from the open file's own metadata, so that the
    /// size in the header is the size of what is read.
    private func startReading(
        _ relative: [UInt8], full: [UInt8], listed: FileStatus, into chunk: inout ChunkBuilder
    ) throws(TarError) {
        let file: OpenFile
        do {
            file = try FileTree.openFile(full)
        } catch {
            throw error.isNotFound ? vanished(full) : unreadable(full, error)
        }
        let opened: FileStatus
        do {
            opened = try file.status()
        } catch {
            throw unreadable(full, error)
        }
        guard opened.type == .regular, opened.identity == listed.identity else {
            throw TarError(.changed, "\(display(full)) was replaced while being archived", path: display(full))
        }
        guard let entry = TarEntry(path: relative, status: opened) else { return }
        if TarEntry.mayBeHardLinked(opened) { firstPaths[opened.identity] = relative }
        chunk.append(try TarHeader.encode(entry))
        reading = FileContentsRead(file: file, path: full, size: opened.size, remaining: opened.size)
        if opened.size == 0 { try copyContents(into: &chunk) }
    }

    /// Copies as much of the current file as fits in the chunk; at its end checks that the file
    /// still has the size its header announced, and pads it to a block.
    private func copyContents(into chunk: inout ChunkBuilder) throws(TarError) {
        guard let current = reading else { return }
        if current.remaining > 0 {
            let wanted = Int(min(current.remaining, Int64(max(chunkSize - chunk.count, TarHeader.blockSize))))
            let count: Int
            do {
                count = try current.file.read(appendingTo: &chunk, count: wanted)
            } catch {
                throw unreadable(current.path, error)
            }
            if count == 0 {
                throw changedSize(current.path, expected: current.size, now: current.size - current.remaining)
            }
            current.remaining -= Int64(count)
            if current.remaining > 0 { return }
        }
        let now: FileStatus
        do {
            now = try current.file.status()
        } catch {
            throw unreadable(current.path, error)
        }
        if now.size != current.size { throw changedSize(current.path, expected: current.size, now: now.size) }
        chunk.appendZeros(TarHeader.padding(after: current.size))
        reading = nil
    }

    /// Children of `parent` in the order the walk pops them: sorted bytewise, the first one last.
    private static func visitOrder(_ names: [[UInt8]], under parent: [UInt8]) -> [[UInt8]] {
        names.sorted { $0.lexicographicallyPrecedes($1) }.reversed().map {
            parent.isEmpty ? $0 : parent + [UInt8(ascii: "/")] + $0
        }
    }

    private func fullPath(_ relative: [UInt8]) -> [UInt8] {
        root == [UInt8(ascii: "/")] ? root + relative : root + [UInt8(ascii: "/")] + relative
    }

    private func display(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }

    private func vanished(_ path: [UInt8]) -> TarError {
        TarError(.vanished, "\(display(path)) vanished while being archived", path: display(path))
    }

    private func unreadable(_ path: [UInt8], _ failure: SystemCallFailure) -> TarError {
        TarError(
            .unreadable, "cannot read \(display(path)): \(failure.text)", path: display(path), errno: failure.errno)
    }

    private func changedSize(_ path: [UInt8], expected: Int64, now: Int64) -> TarError {
        TarError(
            .changed, "\(display(path)) changed size while being read (\(expected) bytes when opened, \(now) now)",
            path: display(path))
    }
}

/// The open file whose contents the archiver is copying, and how much of it is left.
private final class FileContentsRead {
    let file: OpenFile
    let path: [UInt8]
    let size: Int64
    var remaining: Int64

    init(file: consuming OpenFile, path: [UInt8], size: Int64, remaining: Int64) {
        self.file = file
        self.path = path
        self.size = size
        self.remaining = remaining
    }
}
