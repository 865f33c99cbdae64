import ArgumentParser
import FoundationEssentials
import Testing

@testable import CcdkCLI
@testable import CcorcCLI

/// `--version` on both CLIs prints the version written in include/ccorc.h (`#define CCORC_VERSION`),
/// the same one the Makefile reads with sed and ccorc_version() returns.
@Suite struct VersionTests {
    /// The version as the header's text spells it, read the way the Makefile reads it.
    static func headerVersion() throws -> String {
        let package = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let header = String(decoding: try Data(contentsOf: package.appending(path: "include/ccorc.h")), as: UTF8.self)
        let prefix = "#define CCORC_VERSION \""
        let line = try #require(
            header.split(separator: "\n").first { $0.hasPrefix(prefix) }, "include/ccorc.h defines CCORC_VERSION")
        let version = line.dropFirst(prefix.count).prefix { $0 != "\"" }
        #expect(!version.isEmpty && version.split(separator: ".").count == 3, "CCORC_VERSION is x.y.z: \(line)")
        return String(version)
    }

    /// What `command --version` prints and its exit status, parsed in-process as the CLI parses it.
    static func versionOutput<Root: ParsableCommand>(_ command: Root.Type) -> (message: String, status: ExitCode)? {
        do {
            _ = try command.parseAsRoot(["--version"])
            return nil
        } catch {
            return (command.fullMessage(for: error), command.exitCode(for: error))
        }
    }

    @Test func ccorcPrintsTheHeadersVersion() throws {
        let expected = try Self.headerVersion()
        let output = try #require(Self.versionOutput(Ccorc.self), "ccorc --version ends parsing")
        #expect(output.message == expected)
        #expect(output.status == .success)
    }

    @Test func ccdkPrintsTheHeadersVersion() throws {
        let expected = try Self.headerVersion()
        let output = try #require(Self.versionOutput(Ccdk.self), "ccdk --version ends parsing")
        #expect(output.message == expected)
        #expect(output.status == .success)
    }
}
