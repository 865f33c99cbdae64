import Foundation
import Testing

@testable import CCOrcKit

/// `--help` and `-h` on every subcommand of both CLIs print that subcommand's usage and exit 0,
/// without asking the engine, tmux or the registry anything.
@Suite struct CLIHelpTests {
    /// An engine socket, a tmux socket and a registry home that do not exist: a command that tried
    /// to use any of them would fail (and a registry would be created) instead of printing help.
    static let isolation: [String: String] = {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ccorc-help-\(getpid())").path
        return [
            "DOCKER_HOST": "unix://\(scratch)/no-engine.sock",
            "CCORC_TMUX_SOCKET": scratch + "/no-tmux.sock",
            "CCORC_HOME": scratch + "/home",
        ]
    }()

    /// One subcommand as typed: its path of names (an alias in place of a name where it was
    /// typed so), and the canonical path the usage line must show.
    struct Subcommand: CustomStringConvertible {
        var typed: [String]
        var canonical: [String]
        var description: String { typed.joined(separator: " ") }
    }

    /// Every subcommand of `program` and every alias of one, read from the CLI's own configuration:
    /// ArgumentParser's `--experimental-dump-help` prints the whole command tree as JSON, so a
    /// subcommand added later is covered without touching this test. ArgumentParser's generated
    /// `help` subcommand is left out: `ccdk help --help` is its root's help, by design.
    static func subcommands(of program: String) async throws -> [Subcommand] {
        let dump = try await Products.run(program, ["--experimental-dump-help"], environment: isolation)
        #expect(dump.status == 0, "\(program) --experimental-dump-help: \(dump.stderr)")
        let root = try #require(try JSONValue.parse(dump.stdout)["command"])
        var found: [Subcommand] = []
        func walk(_ command: JSONValue, typed: [String], canonical: [String]) {
            for child in command["subcommands"]?.array ?? [] {
                guard let name = child["commandName"]?.string, name != "help" else { continue }
                for spelling in [name] + (child["aliases"]?.array ?? []).compactMap(\.string) {
                    found.append(Subcommand(typed: typed + [spelling], canonical: canonical + [name]))
                }
                walk(child, typed: typed + [name], canonical: canonical + [name])
            }
        }
        walk(root, typed: [], canonical: [])
        return found
    }

    @Test(arguments: ["ccdk", "ccorc"]) func everySubcommandPrintsItsUsage(program: String) async throws {
        let all = try await Self.subcommands(of: program)
        let expected =
            program == "ccdk" ? ["shell", "exec", "run", "image build", "image ls"] : ["launch", "health", "cleanup"]
        for name in expected {
            #expect(
                all.contains { $0.description == name }, "\(program) \(name) is among the subcommands found: \(all)")
        }
        for subcommand in all {
            // After a positional word too: that is where a passthrough argument used to swallow it.
            for tail in [["--help"], ["-h"], ["some-name", "--help"]] {
                let line = ([program] + subcommand.typed + tail).joined(separator: " ")
                let result = try await Products.run(program, subcommand.typed + tail, environment: Self.isolation)
                #expect(result.status == 0, "\(line): exit \(result.status), \(result.stderr)")
                #expect(result.stderr.isEmpty, "\(line): \(result.stderr)")
                let usage = result.stdout.split(separator: "\n").first { $0.hasPrefix("USAGE: ") }
                let named = "USAGE: " + ([program] + subcommand.canonical).joined(separator: " ")
                #expect(
                    usage.map { $0 == named || $0.hasPrefix(named + " ") } == true, "\(line) printed \(result.stdout)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: Self.isolation["CCORC_HOME"]!), "help opened no registry")
    }
}
