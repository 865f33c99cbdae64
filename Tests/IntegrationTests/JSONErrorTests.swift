import Foundation
import Testing

@testable import CCOrcKit

/// Every `--json` command's failures: one `{"error": {"code", "message"}}` line on stdout, nothing
/// on stderr, a non-zero exit, and the code that says what went wrong.
@Suite struct JSONErrorTests {
    struct Case: CustomStringConvertible {
        var program: String
        var arguments: [String]
        var code: String
        var status: Int32 = 1
        var unreachableEngine = false
        var description: String {
            "\(program) \(arguments.joined(separator: " "))\(unreachableEngine ? " (no engine)" : "")"
        }
    }

    static let cases: [Case] = [
        // Usage errors, found before anything runs.
        Case(program: "ccorc", arguments: ["health", "--json"], code: "usage", status: 64),
        Case(program: "ccorc", arguments: ["list", "--json", "--bogus"], code: "usage", status: 64),
        Case(program: "ccorc", arguments: ["info", "--json"], code: "usage", status: 64),
        Case(
            program: "ccorc", arguments: ["cleanup", "--json", "--older-than", "soon", "--yes"], code: "invalidArgument"
        ),
        Case(program: "ccdk", arguments: ["list", "--json", "--bogus"], code: "usage", status: 64),
        Case(program: "ccdk", arguments: ["stats", "--json"], code: "usage", status: 64),
        // Names nobody has.
        Case(program: "ccorc", arguments: ["info", "ccorc-json-nope", "--json"], code: "notFound"),
        Case(program: "ccorc", arguments: ["health", "ccorc-json-nope", "--json"], code: "notFound"),
        Case(
            program: "ccorc", arguments: ["cleanup", "--remove", "ccorc-json-nope", "--json", "--yes"], code: "notFound"
        ),
        Case(program: "ccdk", arguments: ["status", "ccorc-json-nope", "--json"], code: "notFound"),
        Case(program: "ccdk", arguments: ["inspect", "ccorc-json-nope", "--json"], code: "notFound"),
        Case(program: "ccdk", arguments: ["stats", "ccorc-json-nope", "--json"], code: "notFound"),
        // A cleanup that would have to ask.
        Case(program: "ccorc", arguments: ["cleanup", "--stopped-only", "--json"], code: "failed"),
        // No engine.
        Case(program: "ccorc", arguments: ["list", "--json"], code: "unreachable", unreachableEngine: true),
        Case(program: "ccorc", arguments: ["health", "--all", "--json"], code: "unreachable", unreachableEngine: true),
        Case(
            program: "ccorc", arguments: ["cleanup", "--stopped-only", "--dry-run", "--json"], code: "unreachable",
            unreachableEngine: true),
        Case(program: "ccdk", arguments: ["list", "--json"], code: "unreachable", unreachableEngine: true),
        Case(program: "ccdk", arguments: ["image", "list", "--json"], code: "unreachable", unreachableEngine: true),
        Case(program: "ccdk", arguments: ["status", "x", "--json"], code: "unreachable", unreachableEngine: true),
    ]

    @Test(arguments: cases)
    func failuresAreOneJSONErrorOnStdout(_ test: Case) async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ccorc-json-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: home) }
        var environment = ["CCORC_HOME": home, "CCORC_TMUX_SERVER": "ccorc-json-\(getpid())", "TMUX": ""]
        if test.unreachableEngine { environment["DOCKER_HOST"] = "unix:///nonexistent/ccorc-json.sock" }
        let result = try await Products.run(test.program, test.arguments, environment: environment)
        #expect(result.status == test.status, "\(test): \(result.stdout)\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(test): stderr \(result.stderr.debugDescription)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(test): one line expected: \(result.stdout.debugDescription)")
        let error = try JSONValue.parse(String(lines.first ?? ""))["error"]
        #expect(error?["code"]?.string == test.code, "\(test): \(result.stdout)")
        let message = try #require(error?["message"]?.string, "\(test)")
        #expect(!message.isEmpty && !message.contains("\n"), "\(test): \(message.debugDescription)")
    }

    @Test(arguments: [
        ["ccorc", "health"], ["ccorc", "list", "--bogus"], ["ccdk", "exec"], ["ccdk", "run", "-d"],
        ["ccorc", "cleanup", "--jobs"],
    ])
    func usageErrorsWithoutJSONAreOneLine(_ command: [String]) async throws {
        let result = try await Products.run(
            command[0], Array(command.dropFirst()), environment: ["DOCKER_HOST": "unix:///nonexistent/ccorc-json.sock"])
        #expect(result.status == 64, "\(command): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr.hasPrefix(command[0] + ": ") && result.stderr.hasSuffix("(see `\(command[0]) --help`)\n"),
            "\(result.stderr.debugDescription)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr.debugDescription)")
    }
}
