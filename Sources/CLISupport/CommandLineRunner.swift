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
        } catch let error as EngineError {
            fail(programName, error.description, code: error.code.rawValue, json: json)
        } catch let error as CommandLineFailure {
            fail(programName, error.message, code: error.code, json: json, status: error.status)
        } catch let error as CgroupError {
            fail(programName, error.description, code: "cgroup", json: json)
        } catch let error as SessionError {
            fail(programName, error.description, code: error.code.rawValue, json: json)
        } catch let error as RegistryError {
            fail(programName, error.description, code: "registry", json: json)
        } catch let error as TmuxError {
            fail(programName, error.description, code: "tmux", json: json)
        } catch let error as TarError {
            fail(programName, error.description, code: "archive", json: json)
        } catch {
            // --help and --version are ArgumentParser's to print; a usage error is one line like
            // any other error (a JSON error with --json), pointing at the help.
            let status = Root.exitCode(for: error)
            guard status != .success else { Root.exit(withError: error) }
            let message = Root.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let usage = status.rawValue == ExitCode.validationFailure.rawValue
            fail(programName, usage && !json ? "\(message) (see `\(programName) --help`)" : message,
                 code: usage ? "usage" : "failed", json: json, status: status.rawValue)
        }
    }

    private static func fail(_ program: String, _ message: String, code: String, json: Bool, status: Int32 = 1) -> Never {
        if json {
            print(JSONValue.object(["error": ["code": .string(code), "message": .string(message)]]).serialized())
        } else {
            StandardStream.error.write("\(program): \(message)\n")
        }
        exit(status)
    }
}

/// A failure the CLI itself reports (a missing argument combination, a partial bulk failure).
public struct CommandLineFailure: Error, CustomStringConvertible {
    /// The one-line message.
    public var message: String
    /// The exit status.
    public var status: Int32
    /// The `code` of the `--json` error object: `failed` unless a more precise one (`notFound`) applies.
    public var code: String

    /// A failure with `message`, exiting with `status`.
    public init(_ message: String, status: Int32 = 1, code: String = "failed") {
        self.message = message
        self.status = status
        self.code = code
    }

    public var description: String { message }
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
