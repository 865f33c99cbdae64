import Foundation
import Testing

@testable import CCOrcKit

/// The README's usage blocks say what the CLIs do: every `ccorc` and `ccdk` command line in them
/// names subcommands that exist and only flags that the subcommand's `--help` lists.
@Suite struct ReadmeUsageTests {
    static let readmePath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md").path

    /// The help page of a program and subcommand path, from the built binary's `--help`, read
    /// once per path; a `--help` that fails is a test failure.
    final class HelpPages {
        private var pages: [[String]: HelpPage] = [:]

        func page(_ path: [String]) throws -> HelpPage {
            if let page = pages[path] { return page }
            let result = try Products.runBlocking(
                path[0], Array(path.dropFirst()) + ["--help"], environment: CLIHelpTests.isolation)
            guard result.status == 0 else {
                throw TestFailure("\(path.joined(separator: " ")) --help exited \(result.status): \(result.stderr)")
            }
            let page = HelpPage(parsing: result.stdout)
            pages[path] = page
            return page
        }
    }

    @Test func everyCommandLineOfTheReadmeParses() throws {
        let readme = try String(contentsOfFile: Self.readmePath, encoding: .utf8)
        let commands = ReadmeUsage.commandLines(in: readme)
        #expect(commands.count >= 30, "the usage blocks were found: \(commands.count) command lines")
        #expect(Set(commands.map(\.program)) == ["ccorc", "ccdk"])
        let pages = HelpPages()
        let problems = try commands.flatMap { try ReadmeUsage.problems($0, help: pages.page) }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The same check against the real binaries catches a flag no subcommand has and a
    /// subcommand that does not exist.
    @Test func theCheckCatchesAnInventedFlagAndSubcommand() throws {
        let sample = """
            ```sh
            ccorc attach NAME --invented
            ccdk image list | shrink
            ccorc stop NAME... [--time SECS] [--keep-tmux]
            ```
            """
        let pages = HelpPages()
        let problems = try ReadmeUsage.commandLines(in: sample).map { try ReadmeUsage.problems($0, help: pages.page) }
        #expect(
            problems == [
                ["README.md:2: ccorc attach NAME --invented: --invented is not an option of ccorc attach"],
                ["README.md:3: ccdk image list|shrink: ccdk image has no subcommand shrink"],
                [],
            ])
    }

    @Test func usageLinesAreFoundInBlocksWithTheirContinuationsAndWithoutComments() {
        let sample = """
            Prose: ccorc launch --not-in-a-block.

            ```sh
            ccorc launch NAME... [--agents a,b] [--image IMG]
                         [--container-memory 4g] [--force]   # a comment with --fake
            ccorc export NAME...|--all [--output PATH]; ccorc import FILE... [--create]; ccorc recover
            make demo    # ccorc list --not-a-command-line
            ccdk start|stop [-t SECS]|restart NAME...
            ccdk image import DIR|TARBALL -t REPO:TAG [-c 'CMD ["sh", "--quoted"]']
            ccdk exec [-i] NAME -- CMD --passed-through
            ```
            """
        let commands = ReadmeUsage.commandLines(in: sample)
        #expect(commands.map(\.line) == [4, 6, 6, 6, 8, 9, 10])
        #expect(
            commands.map(\.flags) == [
                ["--agents", "--image", "--container-memory", "--force"],
                ["--all", "--output"], ["--create"], [],
                ["-t"], ["-t", "-c"], ["-i"],
            ])
        #expect(commands[4].words.prefix(1) == [["start", "stop"]])
        #expect(commands[5].words.prefix(2) == [["image"], ["import"]])
    }

    @Test func problemsFollowSubcommandsAndTheirAlternatives() {
        let pages: [[String]: HelpPage] = [
            ["ccdk"]: HelpPage(subcommands: ["start", "stop", "image"]),
            ["ccdk", "start"]: HelpPage(flags: ["-i", "--instance", "-h", "--help"]),
            ["ccdk", "stop"]: HelpPage(flags: ["-i", "--instance", "-t", "--time", "-h", "--help"]),
            ["ccdk", "image"]: HelpPage(subcommands: ["list", "ls"]),
            ["ccdk", "image", "list"]: HelpPage(flags: ["--json"]),
            ["ccdk", "image", "ls"]: HelpPage(flags: ["--json"]),
        ]
        func problems(_ line: String) -> [String] {
            let command = ReadmeUsage.parse(line, line: 1)!
            return ReadmeUsage.problems(command) { pages[$0] ?? HelpPage() }
        }
        #expect(problems("ccdk start|stop [-t SECS] NAME...") == [])
        #expect(
            problems("ccdk start|stop [--tim SECS] NAME...") == [
                "README.md:1: ccdk start|stop --tim SECS NAME...: --tim is not an option of ccdk start, ccdk stop"
            ])
        #expect(problems("ccdk image ls [--json]") == [])
        #expect(problems("ccdk image [--json]") == ["README.md:1: ccdk image --json: ccdk image needs a subcommand"])
        #expect(problems("ccdk imag list") == ["README.md:1: ccdk imag list: ccdk has no subcommand imag"])
        #expect(problems("ccdk image") == ["README.md:1: ccdk image: ccdk image needs a subcommand"])
    }

    @Test func helpPagesListOptionColumnsAndSubcommandAliases() {
        let page = HelpPage(
            parsing: """
                OVERVIEW: Create and start a container.

                USAGE: ccdk run [<options>] [<name>] -- [<command> ...]

                OPTIONS:
                  -i, --instance <instance>
                                          Container name.
                  -w, --workdir <workdir> Working directory inside the container, not --in-description.
                  --mount <mount>         Mount SOURCE:/path[:ro] (a source without a slash is
                                          a named volume; --not-this-either).
                  -h, --help              Show help information.

                SUBCOMMANDS:
                  list, ps                List the containers.
                  launch (default)        Launch.

                """)
        #expect(page.flags == ["-i", "--instance", "-w", "--workdir", "--mount", "-h", "--help"])
        #expect(page.subcommands == ["list", "ps", "launch"])
    }
}
