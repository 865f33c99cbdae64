import Foundation

/// A minimal image built offline from the host's static busybox: one binary plus a symlink per
/// applet, a root user and a home directory. It is what the tests and the demo run, since no image
/// registry can be assumed reachable.
public enum BusyboxImage {
    /// Where Debian's busybox-static installs the binary.
    public static let defaultBinary = "/bin/busybox"

    /// Builds the root filesystem as a tar archive.
    /// - Throws: `TarError` when the binary is missing or is not a static busybox.
    public static func rootfsArchive(busybox: String = defaultBinary) throws -> [UInt8] {
        guard let binary = FileManager.default.contents(atPath: busybox) else {
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
        try tar.addFile("etc/passwd", contents: Array("root:x:0:0:root:/root:/bin/sh\n".utf8))
        try tar.addFile("etc/group", contents: Array("root:x:0:\n".utf8))
        return tar.finish()
    }

    /// Imports the busybox root filesystem as `reference` (`repo:tag`) and returns the image ID.
    public static func importImage(into engine: EngineClient, reference: String, busybox: String = defaultBinary) async throws -> String {
        let (repository, tag) = ImageReference.split(reference)
        return try await engine.importImage(
            tarball: try rootfsArchive(busybox: busybox), repository: repository, tag: tag,
            changes: ["CMD [\"sh\"]", "ENV PATH=/bin:/usr/bin", "ENV HOME=/root", "WORKDIR /root"])
    }

    private static func listApplets(_ busybox: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: busybox)
        process.arguments = ["--list"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let applets = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard process.terminationStatus == 0, applets.contains("sh") else {
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
