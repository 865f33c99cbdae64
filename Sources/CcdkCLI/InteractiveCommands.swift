import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials
import Glibc

/// Flags shared by the commands that connect the local terminal to a container.
struct TerminalOptions: ParsableArguments {
    @Option(help: "Key sequence that detaches and leaves the process running (empty: none).")
    var detachKeys = "ctrl-p,ctrl-q"
}

/// Exits with the remote status, or says how to get back after a detach.
func finish(_ exitCode: Int?, container: String) throws {
    guard let exitCode else {
        printError("ccdk: detached from \(container); it goes on running")
        return
    }
    if exitCode != 0 { throw ExitStatus(Int32(truncatingIfNeeded: exitCode)) }
}

struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a command in a running container.",
        discussion: "Input is forwarded when -i is given, or when it is a pipe or a file (not a terminal or /dev/null)."
    )
    @OptionGroup var engineChoice: EngineChoice
    @Flag(name: .shortAndLong, help: "Allocate a TTY.") var tty = false
    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Forward input.") var interactive = false
    @Option(name: .shortAndLong, help: "User to run as.") var user: String?
    @Option(name: .shortAndLong, help: "Working directory.") var workdir: String?
    @Option(name: .shortAndLong, help: "Environment variable KEY=VALUE (repeatable).") var env: [String] = []
    @OptionGroup var terminal: TerminalOptions
    @Argument(help: "Container name or ID.") var container: String
    @Argument(parsing: .postTerminator, help: "The command, after --.") var command: [String] = []

    func run() async throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. ccdk exec NAME -- ls") }
        var options = InteractiveOptions(
            tty: tty, stdin: interactive || LocalTerminal.isDataSource(STDIN_FILENO),
            detachKeys: try DetachKeys(terminal.detachKeys))
        options.user = user
        options.workingDirectory = workdir
        options.environment = env
        let engine = try engineChoice.client()
        try finish(
            try await engine.execInteractive(container: container, command: command, options: options),
            container: container)
    }
}

struct Shell: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell", abstract: "Open an interactive shell (or run a command) in a running container.",
        discussion: "Without a command: a login shell, bash where the image has it, else sh.")
    @OptionGroup var engineChoice: EngineChoice
    @Option(name: [.customShort("i"), .long], help: "Container name or ID.") var instance: String?
    @Option(name: .shortAndLong, help: "User to run as.") var user: String?
    @OptionGroup var terminal: TerminalOptions
    // `.remaining`, not `.captureForPassthrough`: passthrough capture takes the first unknown word,
    // `--help` and `-h` included, as the start of the command, so `ccdk shell --help` asked the
    // engine for a container named "--help". With `.remaining` the parser still sees its own flags
    // (and -u, --detach-keys) anywhere before `--`, and everything after `--` arrives untouched.
    @Argument(
        parsing: .remaining,
        help: ArgumentHelp(
            "NAME (unless -i), then an optional command; put the command after -- when a word of it starts with -.",
            valueName: "name-and-command"))
    var rest: [String] = []

    /// One exec that picks the best shell inside the container, so choosing costs no round trip.
    static let loginShell = ["/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l"]

    func run() async throws {
        var rest = self.rest
        guard let container = instance ?? (rest.isEmpty ? nil : rest.removeFirst()) else {
            throw ValidationError("name the container with -i NAME or as the first argument")
        }
        let isTerminal = LocalTerminal.isTerminal(STDIN_FILENO)
        var options = InteractiveOptions(tty: isTerminal, stdin: true, detachKeys: try DetachKeys(terminal.detachKeys))
        options.user = user
        let engine = try engineChoice.client()
        let command = rest.isEmpty ? Shell.loginShell : rest
        try finish(
            try await engine.execInteractive(container: container, command: command, options: options),
            container: container)
    }
}

struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach", abstract: "Attach the terminal to a container's main process.")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var target: InstanceArguments
    @Flag(help: "Do not forward input.") var noStdin = false
    @OptionGroup var terminal: TerminalOptions

    func run() async throws {
        let name = try target.name()
        let options = InteractiveOptions(tty: true, stdin: !noStdin, detachKeys: try DetachKeys(terminal.detachKeys))
        try finish(
            try await engineChoice.client().attachInteractive(container: name, options: options), container: name)
    }
}
