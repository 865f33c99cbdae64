import ArgumentParser
import CLISupport
import Glibc
import Testing

@testable import CcorcCLI

/// `ccorc top` as the command line sees it: a subcommand of `ccorc`, and refused off a terminal.
@Suite struct TopCommandTests {
    @Test func isASubcommandWithAPattern() throws {
        let command = try Ccorc.parseAsRoot(["top", "--pattern", "tp-*"])
        let top = try #require(command as? Top)
        #expect(top.pattern == "tp-*")
    }

    @Test func refusesAPipe() throws {
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        let error = #expect(throws: CommandLineFailure.self) {
            try Top.requireTerminal(input: ends[0], output: ends[1])
        }
        #expect(error?.message == "top needs a terminal; use `ccorc watch`")
        #expect(error?.kind.exitStatus != 0)
    }
}
