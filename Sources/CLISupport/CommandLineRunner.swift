import ArgumentParser
import CCOrcKit
import FoundationEssentials
import Glibc

/// Runs a root command the way both CLIs do: errors become one line on stderr (or a JSON object on
/// stdout with `--json`) and a non-zero exit status.
public enum CommandLineRunner {
    /// Parses the process arguments for `Root`, runs the chosen command and exits.
    public static func main<Root: AsyncParsableCommand>(_ root: Root.Type, programName: String) async -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // `--json` among the command's own options, not in a command line passed through after `--`.
        let json = arguments.prefix { $0 != "--" }.contains("--json")
        do {
            var command = try Root.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let exitCode as ExitStatus {
            exit(exitCode.code)
        } catch let failure as CommandLineFailure {
            fail(programName, failure.message, code: failure.codeName, json: json, status: failure.kind.exitStatus)
        } catch let error as any CCOrcError {
            // An error with no case of its own used to be ArgumentParser's to print, which keeps
            // only its first line; it still does.
            let message =
                error.codeName == "failed" ? firstLine(of: error.description) ?? error.description : error.description
            fail(programName, message, code: error.codeName, json: json, status: error.kind.exitStatus)
        } catch {
            // --help and --version are ArgumentParser's to print; a usage error is one line like
            // any other error (a JSON error with --json), pointing at the help.
            let status = Root.exitCode(for: error)
            guard status != .success else { Root.exit(withError: error) }
            let message = firstLine(of: Root.message(for: error)) ?? "\(error)"
            let usage = status.rawValue == ExitCode.validationFailure.rawValue
            fail(
                programName, usage && !json ? "\(message) (see `\(programName) --help`)" : message,
                code: usage ? "usage" : "failed", json: json, status: status.rawValue)
        }
    }

    /// The first non-empty line of `text`; nil when it has none.
    private static func firstLine(of text: String) -> String? {
        text.split(separator: "\n").first.map(String.init)
    }

    private static func fail(_ program: String, _ message: String, code: String, json: Bool, status: Int32 = 1) -> Never
    {
        if json {
            print(JSONValue.object(["error": ["code": .string(code), "message": .string(message)]]).serialized())
        } else {
            StandardStream.error.write("\(program): \(message)\n")
        }
        exit(status)
    }
}

/// A failure the CLI itself reports (a missing argument combination, a partial bulk failure).
public struct CommandLineFailure: CCOrcError {
    /// The one-line message.
    public var message: String
    /// The `code` of the `--json` error object: `failed` unless a more precise one (`notFound`) applies.
    public var codeName: String
    /// The kind of failure, which decides the exit status.
    public var kind: ErrorKind

    /// A failure with `message`, reported as `code` with `--json`.
    public init(_ message: String, code: String = "failed", kind: ErrorKind = .internal) {
        self.message = message
        self.codeName = code
        self.kind = kind
    }

    /// A library error with `addition` after its message, reported with its code and kind.
    public init(_ error: some CCOrcError, adding addition: String) {
        self.init(error.description + addition, code: error.codeName, kind: error.kind)
    }

    public var description: String { message }
}

/// The CLIs' exit status for each kind of error: the one place it is decided.
extension ErrorKind {
    /// The exit status of a command that fails with an error of this kind; 1 for every kind, the
    /// status scripts have always seen (130 for an interrupt and 1 for a partial failure are
    /// `ExitStatus`es the commands throw themselves).
    public var exitStatus: Int32 {
        // Exhaustive: a kind added to the library needs its own decision here.
        switch self {
        case .notFound, .alreadyExists, .conflict, .invalidInput, .engineUnreachable, .engine, .tmux,
            .registry, .session, .unsupported, .internal:
            return EXIT_FAILURE
        }
    }
}

/// Ends the command with an exit status but no message (the output already said it).
public struct ExitStatus: Error {
    /// The status to exit with.
    public var code: Int32

    /// Exit with `code`.
    public init(_ code: Int32) { self.code = code }
}

/// Writes to standard error.
public func printError(_ text: String) {
    StandardStream.error.write(text + "\n")
}

/// Prints a value as indented JSON on standard output.
public func printJSON(_ value: JSONValue) {
    print(value.serialized(indent: 2))
}
