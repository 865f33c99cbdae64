/// The one rule that decides what is a secret wherever ccorc shows or writes a session: `export`
/// (unless `--include-secrets`), `info`, `list`, `health`, `ccdk inspect` and `ccdk list`, the C
/// ABI's JSON, and the labels launch puts on containers and volumes. The registry keeps the real
/// values; only what leaves it is masked.
///
/// A value is masked, replaced by `<masked>`, when
/// - **its variable's name is a secret's** (`isSecretName`): the name is split into words at `_`,
///   `-`, `.` and lower-to-upper case changes (`apiKey` is `api`, `Key`), and a word is one of
///   `KEY`, `KEYS`, `PASS`, `PWD`, `AUTH`, `OAUTH`, `SESSION`, `APIKEY`, `ACCESSKEY`, `SECRETKEY`,
///   `PRIVATEKEY`, or ends with one of `TOKEN`, `SECRET`, `PASSWORD`, `PASSWD`, `PASSPHRASE`,
///   `CREDENTIAL`, `COOKIE`, `AUTHORIZATION` (with or without a plural `S`: `PGPASSWORD`,
///   `GITHUBTOKEN`), or the last of two or more words is `PAT` (`GH_PAT`). So `API_KEY`, `KEY`,
///   `SSH_KEY_FILE` (a path, masked all the same: a secret's name masks whatever its value
///   is), `DB_PASS`, `MYSQL_PWD`, `AUTH` and `SESSION_ID` are secrets, and
///   `KEYBOARD_LAYOUT`, `MONKEY`, `PASSAGE`, `GIT_AUTHOR_NAME`, `TOKENIZERS_PARALLELISM` and
///   `PATH` are not: a short word must be the whole word. Never secrets by name: ccorc's own
///   `CCORC_SESSION` and `CCORC_ROLE` (a session name and a role) and the shell's `PWD` and
///   `OLDPWD` (directories).
/// - **it is a URL with a password** (`scheme://user:password@host`): only the password goes
///   (`postgres://u:<masked>@host/db`), wherever the URL appears.
/// - **it looks like a well-known key** (`maskValue`): `sk-…` (OpenAI, Anthropic), `ghp_…`,
///   `gho_…`, `ghu_…`, `ghs_…`, `ghr_…` and `github_pat_…` (GitHub), `xoxb-…` and the other
///   `xox?-…` (Slack), `AKIA…`/`ASIA…` (AWS access key IDs), and PEM blocks (`-----BEGIN …-----`
///   to `-----END …-----`, certificates included). Each must start a word (`risk-assessment` is no
///   key) and be long enough to be one.
///
/// In a command line (the agent command, a container's cmd and entrypoint, a process's
/// arguments) every inline assignment `NAME=value`, `export NAME=value` or `--name=value` whose
/// name is a secret's has its value masked, quotes and all; the value rules apply to the rest.
/// `--password value` (an option and its value as two words) is not recognised.
public enum SecretMasking {
    /// What a masked value, or the masked part of one, is replaced with.
    public static let marker = "<masked>"

    /// Words that make a name secret only as a whole word.
    static let wholeWords: Set<String> = [
        "KEY", "KEYS", "PASS", "PWD", "AUTH", "OAUTH", "SESSION", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY",
    ]
    /// Words that make a name secret at the end of any word (`PGPASSWORD`, `GITHUBTOKEN`).
    static let wordEndings = [
        "TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "CREDENTIAL",
        "CREDENTIALS", "COOKIE", "COOKIES", "AUTHORIZATION",
    ]
    /// Names that no word makes secret: ccorc's own variables and the shell's directories.
    static let neverSecret: Set<String> = ["CCORC_SESSION", "CCORC_ROLE", "PWD", "OLDPWD"]

    // MARK: - Names

    /// Whether a variable (or option) named `name` holds a secret, by the words of its name (see
    /// the type's documentation). Leading dashes are ignored (`--api-key`).
    public static func isSecretName<Name: StringProtocol>(_ name: Name) -> Bool {
        let trimmed = name.drop { $0 == "-" }
        guard !trimmed.isEmpty, !neverSecret.contains(String(trimmed)) else { return false }
        let words = nameWords(trimmed)
        if words.count >= 2, words.last == "PAT" { return true }
        return words.contains { word in wholeWords.contains(word) || wordEndings.contains { word.hasSuffix($0) } }
    }

    /// The upper-cased words of a name: split at `_`, `-`, `.` and where a lower-case letter or
    /// digit is followed by an upper-case one.
    static func nameWords<Name: StringProtocol>(_ name: Name) -> [String] {
        var words: [String] = []
        var current = ""
        var previous: Character?
        for character in name {
            if character == "_" || character == "-" || character == "." {
                if !current.isEmpty { words.append(current.uppercased()) }
                current = ""
            } else {
                if character.isUppercase, let previous, previous.isLowercase || previous.isNumber, !current.isEmpty {
                    words.append(current.uppercased())
                    current = ""
                }
                current.append(character)
            }
            previous = character
        }
        if !current.isEmpty { words.append(current.uppercased()) }
        return words
    }

    // MARK: - Values

    /// `value` with every URL password, well-known key and PEM block in it replaced by `<masked>`;
    /// the rest is kept.
    public static func maskValue(_ value: String) -> String {
        // Fast path: the marks of all three rules are ASCII and rare.
        guard
            value.utf8.contains(where: {
                $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "A")
            })
        else {
            return value
        }
        return maskKeyWords(maskURLPasswords(maskPEMBlocks(value)))
    }

    /// Replaces each `-----BEGIN X-----` … `-----END X-----` (or to the end, when it has no end).
    static func maskPEMBlocks(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let begin = rest.firstRange(of: "-----BEGIN ") {
            result += rest[..<begin.lowerBound] + marker
            let afterBegin = rest[begin.upperBound...]
            guard let end = afterBegin.firstRange(of: "-----END ") else { return result }
            let afterEnd = afterBegin[end.upperBound...]
            guard let close = afterEnd.firstRange(of: "-----") else { return result }
            rest = afterEnd[close.upperBound...]
        }
        return result + rest
    }

    /// Replaces the password of every `scheme://user:password@host`.
    static func maskURLPasswords(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let separator = rest.firstRange(of: "://") {
            result += rest[..<separator.upperBound]
            rest = rest[separator.upperBound...]
            let authorityEnd = rest.firstIndex { "/?#'\"".contains($0) || $0.isWhitespace } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":"),
                authority.index(after: colon) < at, authority[authority.index(after: colon)..<at] != Substring(marker)
            else { continue }
            result += rest[...colon] + marker
            rest = rest[at...]
        }
        return result + rest
    }

    /// Replaces every word (a run of ASCII letters, digits, `_` and `-`) that looks like a
    /// well-known key. Works on the UTF-8 view and builds a new string only when it finds one:
    /// labels and command lines are masked for every container listed.
    static func maskKeyWords(_ text: String) -> String {
        func isWordByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        let bytes = text.utf8
        var keys: [Range<String.Index>] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard isWordByte(bytes[index]) else {
                index = bytes.index(after: index)
                continue
            }
            var end = index
            while end < bytes.endIndex, isWordByte(bytes[end]) { end = bytes.index(after: end) }
            // Every key shape starts with one of these.
            if "sgxA".utf8.contains(bytes[index]), looksLikeKey(String(text[index..<end])) { keys.append(index..<end) }
            index = end
        }
        guard !keys.isEmpty else { return text }
        var result = ""
        var copied = text.startIndex
        for key in keys {
            result += text[copied..<key.lowerBound] + marker
            copied = key.upperBound
        }
        return result + text[copied...]
    }

    /// Whether one word has the shape of a well-known key.
    static func looksLikeKey(_ word: String) -> Bool {
        func rest(after prefix: String, atLeast minimum: Int) -> Bool {
            word.hasPrefix(prefix) && word.count - prefix.count >= minimum
        }
        if rest(after: "sk-", atLeast: 8) || rest(after: "github_pat_", atLeast: 10) { return true }
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] where rest(after: prefix, atLeast: 10) { return true }
        let characters = Array(word)
        if characters.count >= 11, word.hasPrefix("xox"), characters[3].isLowercase, characters[4] == "-" {
            return true
        }
        if word.count >= 20, word.hasPrefix("AKIA") || word.hasPrefix("ASIA"),
            word.allSatisfy({ $0.isUppercase || $0.isNumber })
        {
            return true
        }
        return false
    }

    // MARK: - Environments and command lines

    /// One `NAME=value` environment entry with its value masked: all of it when the name is a
    /// secret's, else the parts the value rules find. An entry without `=` is a value.
    public static func maskEntry(_ entry: String) -> String {
        guard let equals = entry.firstIndex(of: "=") else { return maskValue(entry) }
        if isSecretName(entry[..<equals]) { return entry[...equals] + marker }
        return entry[...equals] + maskValue(String(entry[entry.index(after: equals)...]))
    }

    /// Every entry of an environment (`K=V`), masked.
    public static func maskEnvironment(_ entries: [String]) -> [String] {
        entries.map(maskEntry)
    }

    /// A command line given as one string (the agent command, a `sh -c` script) with the values
    /// of secret inline assignments masked and the value rules applied to the rest.
    public static func maskCommand(_ command: String) -> String {
        maskValue(maskAssignments(command))
    }

    /// A command given as arguments (a container's cmd or entrypoint, `/proc/PID/cmdline`), each
    /// masked as a command line of its own.
    public static func maskArguments(_ arguments: [String]) -> [String] {
        arguments.map(maskCommand)
    }

    /// The labels of a container or volume with their values masked: `ccorc.agent-command` as a
    /// command line, every other value by the value rules. Label keys are not variable names
    /// (`ccorc.env-keys` holds names, not keys), so the name rule does not apply to them.
    public static func maskLabels(_ labels: [String: String]) -> [String: String] {
        labels.reduce(into: [:]) { masked, label in
            masked[label.key] =
                label.key == RecoveryLabels.agentCommand ? maskCommand(label.value) : maskValue(label.value)
        }
    }

    /// Whether `text` has had anything masked.
    public static func isMasked(_ text: String) -> Bool {
        text.contains(marker)
    }

    /// How many times `marker` appears in `text` (it cannot overlap itself).
    static func markerCount(in text: String) -> Int {
        let bytes = Array(text.utf8)
        let pattern = Array(marker.utf8)
        var count = 0
        var index = 0
        while index + pattern.count <= bytes.count {
            if bytes[index..<index + pattern.count].elementsEqual(pattern) {
                count += 1
                index += pattern.count
            } else {
                index += 1
            }
        }
        return count
    }

    /// The names whose values were masked in a command line: the inline assignments whose value
    /// is `<masked>`, and `a value` when something else was masked.
    public static func maskedNames(inCommand command: String) -> [String] {
        guard isMasked(command) else { return [] }
        var names: [String] = []
        var maskedValues = 0
        forEachAssignment(in: command) { name, range in
            let value = String(command[range])
            if isSecretName(name), value.contains(marker) {
                names.append(String(name))
                maskedValues += markerCount(in: value)
            }
        }
        if markerCount(in: command) > maskedValues { names.append("a value") }
        return names
    }

    /// The names of the environment entries (`K=V`) that hold a masked value.
    public static func maskedNames(inEnvironment entries: [String]) -> [String] {
        entries.filter(isMasked).map { String($0.split(separator: "=", maxSplits: 1).first ?? "") }
    }

    // MARK: - Inline assignments

    /// The characters after which an assignment's name may start.
    private static func startsWord(_ character: Character?) -> Bool {
        guard let character else { return true }
        return character.isWhitespace || ";&|(`'\"=".contains(character)
    }

    /// Calls `body` with each inline assignment's name and value range (`NAME=value`,
    /// `--name=value`): a name of letters, digits, `_`, `-` and `.` that starts a word, then the
    /// value up to unquoted white space, `;`, `&`, `|` or `)`, or the quote the assignment
    /// itself stands in. The value of a name that is not a secret's is searched in turn.
    private static func forEachAssignment(in text: String, _ body: (Substring, Range<String.Index>) -> Void) {
        var index = text.startIndex
        var previous: Character?
        while index < text.endIndex {
            guard startsWord(previous) else {
                previous = text[index]
                index = text.index(after: index)
                continue
            }
            let enclosingQuote = previous.flatMap { "'\"".contains($0) ? $0 : nil }
            var nameEnd = index
            while nameEnd < text.endIndex, text[nameEnd].isASCII,
                text[nameEnd].isLetter || text[nameEnd].isNumber || "_-.".contains(text[nameEnd])
            {
                nameEnd = text.index(after: nameEnd)
            }
            let name = text[index..<nameEnd]
            guard nameEnd < text.endIndex, text[nameEnd] == "=", name.contains(where: { $0.isLetter }),
                name.first.map({ $0.isLetter || $0 == "_" || $0 == "-" }) == true
            else {
                previous = text[index]
                index = text.index(after: index)
                continue
            }
            let valueStart = text.index(after: nameEnd)
            var valueEnd = valueStart
            var quote: Character?
            while valueEnd < text.endIndex {
                let character = text[valueEnd]
                if let open = quote {
                    if character == open { quote = nil }
                } else if character == enclosingQuote || character.isWhitespace || ";&|)".contains(character) {
                    break
                } else if character == "'" || character == "\"" {
                    quote = character
                } else if character == "\\", text.index(after: valueEnd) < text.endIndex {
                    valueEnd = text.index(after: valueEnd)
                }
                valueEnd = text.index(after: valueEnd)
            }
            body(name, valueStart..<valueEnd)
            if isSecretName(name) {
                // The next assignment starts a word of its own (`A=1 B=2`), never inside this value.
                index = valueEnd
                previous = "x"
            } else {
                // Another's value may hold one: `--env=DB_PASS=x`.
                index = valueStart
                previous = "="
            }
        }
    }

    /// `text` with the value of every inline assignment whose name is a secret's replaced.
    private static func maskAssignments(_ text: String) -> String {
        guard text.contains("=") else { return text }
        var result = ""
        var copied = text.startIndex
        forEachAssignment(in: text) { name, value in
            guard isSecretName(name), !value.isEmpty, text[value] != Substring(marker) else { return }
            result += text[copied..<value.lowerBound] + marker
            copied = value.upperBound
        }
        return result + text[copied...]
    }
}
