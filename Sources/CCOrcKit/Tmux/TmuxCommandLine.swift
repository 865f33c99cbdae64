/// One tmux command, kept as separate words and rendered for tmux's command parser so that no word
/// can end the command, start another (`;`), expand (`$VAR`, `~`), or be cut by a comment (`#`).
///
/// Control mode reads one command per line, so a rendered command never contains a raw newline.
public struct TmuxCommandLine: Sendable, Hashable, CustomStringConvertible {
    /// The tmux command, such as `list-sessions`.
    public let name: String
    /// The arguments, each passed to tmux as exactly one word.
    public let arguments: [String]

    /// A command with its arguments; each argument reaches tmux as one word, unchanged.
    public init(_ name: String, _ arguments: [String]) {
        self.name = name
        self.arguments = arguments
    }

    /// A command with its arguments; each argument reaches tmux as one word, unchanged.
    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments)
    }

    /// The line written to tmux, without its newline.
    public var rendered: String {
        ([name] + arguments.map(TmuxQuoting.quote)).joined(separator: " ")
    }

    /// The rendered line.
    public var description: String { rendered }

    /// Checks that the command can be written at all.
    ///
    /// - Throws: `.invalidArgument` when the command name is not a plain tmux command name (an empty
    ///   or comment-only line would get no reply and break the matching of replies), or when an
    ///   argument contains a NUL byte, which tmux's C strings cannot carry.
    public func validate() throws {
        let nameIsPlain = !name.isEmpty && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D }
        guard nameIsPlain else {
            throw TmuxError(.invalidArgument, "\(name.debugDescription) is not a tmux command name")
        }
        if arguments.contains(where: { $0.utf8.contains(0) }) {
            throw TmuxError(.invalidArgument, "a NUL byte cannot be passed to tmux", command: rendered)
        }
    }
}

/// Quoting and escaping rules of tmux 3.3a, from `cmd-parse.y`, `arguments.c` and `format.c`.
public enum TmuxQuoting {
    /// Renders `word` as one token of tmux's command language with exactly this value.
    ///
    /// Plain words are left bare. Anything else goes in single quotes, where tmux expands nothing
    /// (no `$`, `~`, `\`, `#`); a single quote and control characters are written outside the quotes
    /// as `\'` and `\ooo` escapes, which tmux decodes in unquoted text. Double quotes are not used:
    /// tmux expands `~` right after an opening double quote.
    public static func quote(_ word: String) -> String {
        if isPlain(word) { return word }
        var result = ""
        var inQuotes = false
        for scalar in word.unicodeScalars {
            let value = scalar.value
            if value == 0x27 || value < 0x20 || value == 0x7F {
                if inQuotes {
                    result += "'"
                    inQuotes = false
                }
                result += value == 0x27 ? "\\'" : "\\" + octal(UInt8(value))
            } else {
                if !inQuotes {
                    result += "'"
                    inQuotes = true
                }
                result.unicodeScalars.append(scalar)
            }
        }
        if inQuotes { result += "'" }
        return result.isEmpty ? "''" : result
    }

    /// Escapes `text` for an argument that tmux expands as a format (`new-session -s`, `-n`, `-c`,
    /// `new-window -n`, `-c`) so that it comes out literally: every `#` is doubled.
    public static func formatLiteral(_ text: String) -> String {
        text.replacing("#", with: "##")
    }

    /// Escapes one argv word of a command given on tmux's own command line (`tmux new-session …`):
    /// tmux reads a word ending in `;` as a command separator unless the `;` is preceded by `\`.
    public static func argumentVectorWord(_ word: String) -> String {
        guard word.hasSuffix(";") else { return word }
        return String(word.dropLast()) + "\\;"
    }

    /// Whether tmux reads `word` bare as itself: letters, digits and `_ . / : @ + , = -`, not
    /// empty and not starting with `%` (a `%if`-style directive) or `~` (home directory).
    static func isPlain(_ word: String) -> Bool {
        guard let first = word.utf8.first, first != UInt8(ascii: "%"), first != UInt8(ascii: "~") else { return false }
        return word.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "@"),
                UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    private static func octal(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 8)
        return String(repeating: "0", count: 3 - digits.count) + digits
    }
}

/// Rules for names tmux keeps as given.
public enum TmuxNames {
    /// Checks a session name before it is sent to tmux.
    ///
    /// tmux 3.3a rewrites session names (`session_check_name`): `.` and `:` become `_`, and
    /// `utf8_stravis` turns `$`, `\` and control characters into escapes (`\$`, `\\`, `\n`), so
    /// such a name would not round-trip; a leading `$` would also be read as a session id.
    ///
    /// - Throws: `.invalidName` with the reason.
    public static func validateSessionName(_ name: String) throws {
        if name.isEmpty {
            throw TmuxError(.invalidName, "a tmux session name cannot be empty")
        }
        if let bad = name.unicodeScalars.first(where: { $0 == "." || $0 == ":" }) {
            throw TmuxError(
                .invalidName, "tmux session name \(name.debugDescription) contains '\(bad)', which tmux forbids")
        }
        if let bad = name.unicodeScalars.first(where: { $0 == "$" || $0 == "\\" }) {
            throw TmuxError(
                .invalidName,
                "tmux session name \(name.debugDescription) contains '\(bad)', which tmux would store escaped")
        }
        if name.unicodeScalars.contains(where: isControl) {
            throw TmuxError(
                .invalidName,
                "tmux session name \(name.debugDescription) contains a control character, which tmux would rewrite")
        }
    }

    /// Checks a window name: tmux escapes control characters in window names.
    ///
    /// - Throws: `.invalidName` with the reason.
    public static func validateWindowName(_ name: String) throws {
        if name.unicodeScalars.contains(where: isControl) {
            throw TmuxError(
                .invalidName,
                "tmux window name \(name.debugDescription) contains a control character, which tmux would rewrite")
        }
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F
    }
}
