/// The rule that decides what a file on disk becomes in an archive, from its lstat alone.
///
/// Every type is kept as what it is, with its numeric owner, permission bits (setuid, setgid and
/// sticky included) and modification time in seconds: directories, regular files, symbolic links
/// (not followed), character and block devices (types 3 and 4, with their major and minor
/// numbers) and fifos (type 6). Sockets are skipped: a socket is only a name for a listening
/// process and cannot be recreated from an archive. A second path to a non-directory already
/// archived becomes a hard-link member (type 1) naming the first path.
extension TarEntry {
    /// The member for the file at `path` (relative to the archive's root) with metadata `status`;
    /// nil when such a file is not archived (a socket).
    /// - Parameters:
    ///   - linkTarget: where a symbolic link points (ignored for other types).
    ///   - earlierPath: the archived path of the same file (same device and inode), when there is one.
    init?(path: [UInt8], status: FileStatus, linkTarget: [UInt8] = [], earlierPath: [UInt8]? = nil) {
        let kind: Kind
        switch status.type {
        case .socket: return nil
        case _ where earlierPath != nil && TarEntry.mayBeHardLinked(status): kind = .hardLink(target: earlierPath!)
        case .regular: kind = .regularFile(size: status.size)
        case .directory: kind = .directory
        case .symbolicLink: kind = .symbolicLink(target: linkTarget)
        case .characterDevice: kind = .characterDevice(major: status.deviceMajor, minor: status.deviceMinor)
        case .blockDevice: kind = .blockDevice(major: status.deviceMajor, minor: status.deviceMinor)
        case .fifo: kind = .fifo
        }
        self.init(
            path: path, kind: kind, mode: status.permissions, uid: status.uid, gid: status.gid,
            modified: status.modified)
    }

    /// Whether another path may lead to the same file: a non-directory with more than one link.
    static func mayBeHardLinked(_ status: FileStatus) -> Bool {
        status.type != .directory && status.type != .socket && status.linkCount > 1
    }
}
