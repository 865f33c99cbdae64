/// A minimal image built offline from the host's static busybox: one binary plus a symlink per
/// applet, a root user and a home directory. It is what the tests and the demo run, since no image
/// registry can be assumed reachable.
///
/// With a `user`, the image has the layout of the real agent image (`images/agent`): that user
/// (uid and gid 1000) owns `/home/USER` and `/home/USER/.claude`, and the image sets `USER`,
/// `HOME`, `WORKDIR` and `VOLUME /home/USER/.claude` as that Dockerfile does.
public enum BusyboxImage {
    /// Where Debian's busybox-static installs the binary.
    public static let defaultBinary = "/bin/busybox"

    /// The uid and gid of the non-root user of an agent-layout image.
    public static let userID = 1000

    /// Builds the root filesystem as a tar archive.
    /// - Parameter user: a non-root user to add, with its home and `~/.claude`; nil for root only.
    /// - Throws: `TarError` when the binary is missing or is not a static busybox.
    public static func rootfsArchive(busybox: String = defaultBinary, user: String? = nil) throws -> [UInt8] {
        guard let binary = readWholeFile(busybox) else {
            throw TarError(message: "\(busybox) not found: install Debian's busybox-static")
        }
        let applets = try listApplets(busybox)
        var tar = TarWriter()
        for directory in ["bin", "etc", "root", "tmp", "proc", "sys", "dev", "home", "usr", "usr/bin", "var"] {
            try tar.addDirectory(directory, mode: directory == "tmp" ? 0o1777 : 0o755)
        }
        try tar.addFile("bin/busybox", contents: Array(binary), mode: 0o755)
        for applet in applets where applet != "busybox" {
            try tar.addSymlink("bin/" + applet, target: "busybox")
        }
        var passwd = "root:x:0:0:root:/root:/bin/sh\n"
        var group = "root:x:0:\n"
        if let user {
            guard let first = user.unicodeScalars.first, ("a"..."z").contains(first) || first == "_",
                user.count <= 32,
                user.unicodeScalars.allSatisfy({
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-".unicodeScalars.contains($0)
                }),
                user != "root"
            else {
                throw TarError(
                    message:
                        "user name \(user.debugDescription) is not usable: lowercase letters, digits, _ and -, starting with a letter or _"
                )
            }
            passwd += "\(user):x:\(userID):\(userID):\(user):/home/\(user):/bin/sh\n"
            group += "\(user):x:\(userID):\n"
            try tar.addDirectory("home/" + user, mode: 0o755, uid: userID, gid: userID)
            try tar.addDirectory("home/\(user)/.claude", mode: 0o755, uid: userID, gid: userID)
        }
        try tar.addFile("etc/passwd", contents: Array(passwd.utf8))
        try tar.addFile("etc/group", contents: Array(group.utf8))
        return tar.finish()
    }

    /// Imports the busybox root filesystem as `reference` (`repo:tag`) and returns the image ID.
    /// - Parameters:
    ///   - user: a non-root user the image runs as, in the agent image's layout; nil runs as root.
    ///   - changes: more Dockerfile instructions (`VOLUME /data`, `ENV K=V`) after the layout's own.
    public static func importImage(
        into engine: EngineClient, reference: String, busybox: String = defaultBinary, user: String? = nil,
        changes: [String] = []
    ) async throws -> String {
        let (repository, tag) = ImageReference.split(reference)
        let layout =
            user.map { ["USER \($0)", "ENV HOME=/home/\($0)", "WORKDIR /home/\($0)", "VOLUME /home/\($0)/.claude"] }
            ?? ["ENV HOME=/root", "WORKDIR /root"]
        return try await engine.importImage(
            tarball: try rootfsArchive(busybox: busybox, user: user), repository: repository, tag: tag,
            changes: ["CMD [\"sh\"]", "ENV PATH=/bin:/usr/bin"] + layout + changes)
    }

    private static func listApplets(_ busybox: String) throws -> [String] {
        // A bare name is a file in the working directory (it was read there), not one on PATH.
        let executable = busybox.contains("/") ? busybox : "./" + busybox
        let result = try TmuxChildProcess.runBlocking(executable: executable, arguments: ["--list"])
        let applets = result.output.split(separator: "\n").map(String.init)
        guard result.status == 0, applets.contains("sh") else {
            throw TarError(message: "\(busybox) --list did not list a shell: not a usable busybox")
        }
        return applets
    }
}

/// Image references: `repo[:tag]`, where a registry host may carry a port (`host:5000/repo:tag`).
public enum ImageReference {
    /// Splits a reference into repository and tag (default `latest`).
    public static func split(_ reference: String) -> (repository: String, tag: String) {
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
        }
        return (reference, "latest")
    }
}
