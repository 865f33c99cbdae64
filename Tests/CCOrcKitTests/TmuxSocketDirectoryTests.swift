import Foundation
import Testing

@testable import CCOrcKit

/// tmux's per-user socket directory: found and made the way tmux 3.3a does, and refused where
/// tmux would refuse it.
@Suite struct TmuxSocketDirectoryTests {
    /// A fresh directory to serve as `TMUX_TMPDIR`, removed after `body`.
    private func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ccorc-tmuxdir-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        ).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    private func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func aMissingDirectoryIsMadePrivate() throws {
        try withTemporaryDirectory { base in
            let environment = ["TMUX_TMPDIR": base]
            let server = TmuxServer.named("x")
            let directory = "\(base)/tmux-\(getuid())"
            #expect(server.socketDirectory(environment: environment) == directory)
            #expect(server.socketPath(environment: environment) == directory + "/x")
            #expect(!FileManager.default.fileExists(atPath: directory))
            try server.prepareSocketDirectory(environment: environment)
            #expect(try mode(directory) == 0o700)
            // Again, on the directory that now exists: nothing to do.
            try server.prepareSocketDirectory(environment: environment)
            #expect(try mode(directory) == 0o700)
        }
    }

    @Test func aDirectoryOpenToOthersIsRefusedAsTmuxDoes() throws {
        try withTemporaryDirectory { base in
            let directory = "\(base)/tmux-\(getuid())"
            #expect(mkdir(directory, 0o755) == 0)
            chmod(directory, 0o755)
            let error = #expect(throws: TmuxError.self) {
                try TmuxServer.named("x").prepareSocketDirectory(environment: ["TMUX_TMPDIR": base])
            }
            #expect(error?.code == .socketDirectory)
            #expect(error?.message.contains("unsafe permissions") == true)
            #expect(error?.message.contains("chmod 700 \(directory)") == true)
            // Group access alone is what tmux allows.
            chmod(directory, 0o770)
            #expect(throws: Never.self) {
                try TmuxServer.named("x").prepareSocketDirectory(environment: ["TMUX_TMPDIR": base])
            }
        }
    }

    @Test func anotherUsersDirectoryIsRefused() throws {
        try withTemporaryDirectory { base in
            let directory = "\(base)/tmux-\(getuid())"
            #expect(mkdir(directory, 0o700) == 0)
            #expect(chown(directory, 4242, 4242) == 0, "the tests run as root")
            let error = #expect(throws: TmuxError.self) {
                try TmuxServer.default.prepareSocketDirectory(environment: ["TMUX_TMPDIR": base])
            }
            #expect(error?.message.contains("owner uid 4242") == true)
        }
    }

    @Test func aFileInTheDirectorysPlaceIsRefused() throws {
        try withTemporaryDirectory { base in
            let directory = "\(base)/tmux-\(getuid())"
            #expect(FileManager.default.createFile(atPath: directory, contents: Data()))
            let error = #expect(throws: TmuxError.self) {
                try TmuxServer.named("x").prepareSocketDirectory(environment: ["TMUX_TMPDIR": base])
            }
            #expect(error?.message.contains("is not a directory") == true)
        }
    }

    @Test func aSymlinkedTmpdirResolvesLikeTmux() throws {
        try withTemporaryDirectory { base in
            let link = base + "-link"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: base)
            defer { try? FileManager.default.removeItem(atPath: link) }
            let resolved = try #require(realpath(base, nil))
            defer { free(resolved) }
            #expect(
                TmuxServer.named("x").socketPath(environment: ["TMUX_TMPDIR": link])
                    == "\(String(cString: resolved))/tmux-\(getuid())/x")
        }
    }

    @Test func anExplicitSocketNeedsItsDirectory() throws {
        try withTemporaryDirectory { base in
            #expect(TmuxServer.socket(base + "/s").socketDirectory() == nil)
            try TmuxServer.socket(base + "/s").prepareSocketDirectory()
            let error = #expect(throws: TmuxError.self) {
                try TmuxServer.socket(base + "/missing/s").prepareSocketDirectory()
            }
            #expect(error?.code == .socketDirectory)
            #expect(error?.message.contains("\(base)/missing") == true)
        }
    }

    @Test func theDefaultServerNamedByTMUXNeedsNothing() {
        #expect(TmuxServer.default.socketDirectory(environment: ["TMUX": "/tmp/tmux-5/work,123,4"]) == nil)
    }
}
