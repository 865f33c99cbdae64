import Foundation

/// One command of the README's usage blocks, as written: `ccorc cleanup [NAME...] [--pattern GLOB]...`.
///
/// The words are what the check needs: the program, then each word with its `|` alternatives
/// (`start|stop` is two words in one place), brackets, quoted values and comments gone.
struct ReadmeCommandLine: Equatable, CustomStringConvertible {
    /// The README line the command starts on (1-based).
    var line: Int
    /// `ccorc` or `ccdk`.
    var program: String
    /// The words after the program, each split into its alternatives.
    var words: [[String]]

    var description: String {
        "README.md:\(line): \(program) \(words.map { $0.joined(separator: "|") }.joined(separator: " "))"
    }

    /// The flags shown (`--foo`, `-x`), in order; nothing after a lone `--`, which hands the rest
    /// of the line to the container.
    var flags: [String] {
        var found: [String] = []
        for alternatives in words {
            if alternatives == ["--"] { break }
            for word in alternatives where word.hasPrefix("-") && word != "--" && word != "-" {
                found.append(String(word.prefix { $0 != "=" }))
            }
        }
        return found
    }
}

/// What one `--help` page lists: its subcommands (names and aliases) and its flags.
struct HelpPage: Equatable {
    var subcommands: Set<String> = []
    var flags: Set<String> = []

    /// Reads ArgumentParser's help text: the names in the `SUBCOMMANDS:` section (`list, ps`,
    /// a `(default)` mark dropped) and the option column of the `OPTIONS:` section (`-w, --workdir
    /// <workdir>`), up to the first word of the description.
    init(parsing text: String) {
        var section = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first != " " {
                section = String(line)
                continue
            }
            // Entries start two spaces in; deeper lines continue a description.
            guard line.hasPrefix("  "), line.dropFirst(2).first.map({ $0 != " " }) == true else { continue }
            let entry = line.dropFirst(2)
            if section == "SUBCOMMANDS:" {
                let names = entry.components(separatedBy: "  ").first ?? ""
                for name in names.replacingOccurrences(of: " (default)", with: "").split(separator: ",") {
                    subcommands.insert(name.trimmingCharacters(in: .whitespaces))
                }
            } else if section == "OPTIONS:" {
                for word in entry.split(separator: " ") {
                    if word.hasPrefix("-") {
                        flags.insert(String(word.hasSuffix(",") ? word.dropLast() : word))
                    } else if !(word.hasPrefix("<") && (word.hasSuffix(">") || word.hasSuffix(">..."))) {
                        break
                    }
                }
            }
        }
    }

    init(subcommands: Set<String> = [], flags: Set<String> = []) {
        self.subcommands = subcommands
        self.flags = flags
    }
}

enum ReadmeUsage {
    /// The programs whose command lines are checked.
    static let programs = ["ccorc", "ccdk"]

    /// Every command in the README's fenced code blocks: a line inside a block that starts with
    /// `ccorc ` or `ccdk `, with the indented lines after it that go on with more options (they
    /// start with `[` or `-`), cut at `#` comments and split at `;` into separate commands.
    static func commandLines(in markdown: String) -> [ReadmeCommandLine] {
        var found: [ReadmeCommandLine] = []
        var inBlock = false
        var pending: (line: Int, text: String)?
        func flush() {
            guard let (line, text) = pending else { return }
            pending = nil
            for command in text.split(separator: ";") {
                if let parsed = parse(String(command), line: line) { found.append(parsed) }
            }
        }
        for (index, raw) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                flush()
                inBlock.toggle()
                continue
            }
            guard inBlock else { continue }
            let text = stripComment(line)
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if pending != nil, line.first == " ", trimmed.hasPrefix("[") || trimmed.hasPrefix("-") {
                pending?.text += " " + trimmed
                continue
            }
            flush()
            if programs.contains(where: { line.hasPrefix($0 + " ") }) { pending = (index + 1, text) }
        }
        flush()
        return found
    }

    /// Splits one command (`ccdk start|stop [-t SECS]|restart NAME...`) into its words; nil when it
    /// is not a command of `programs`.
    static func parse(_ command: String, line: Int) -> ReadmeCommandLine? {
        var text = command
        // Quoted values ('GLOB', 'CMD ["sh"]') are values, never flags or subcommands.
        text = text.replacingOccurrences(of: #"'[^']*'|"[^"]*""#, with: "VALUE", options: .regularExpression)
        text = text.replacingOccurrences(of: #"[\[\]]"#, with: " ", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\s*\|\s*"#, with: "|", options: .regularExpression)
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let program = words.first, programs.contains(program) else { return nil }
        return ReadmeCommandLine(
            line: line, program: program,
            words: words.dropFirst().map { $0.split(separator: "|").map(String.init) }.filter { !$0.isEmpty })
    }

    /// The line without a `# comment` (a `#` at the start or after a space).
    private static func stripComment(_ line: String) -> String {
        if line.hasPrefix("#") { return "" }
        guard let range = line.range(of: " #") else { return line }
        return String(line[..<range.lowerBound])
    }

    /// What is wrong with `command` against the CLI's help pages, one message a problem.
    ///
    /// The subcommand path is read off the leading words that the page above them lists as
    /// subcommands; where a word offers alternatives (`start|stop`), each is followed. A flag must
    /// be listed by the help of at least one of the subcommands the line names: `ccdk
    /// start|stop [-t SECS]|restart` shows `-t` for `stop` alone.
    ///
    /// - Parameter help: the help page of a program and subcommand path (`["ccdk", "image"]`).
    static func problems(_ command: ReadmeCommandLine, help: ([String]) throws -> HelpPage) rethrows -> [String] {
        var paths = [[command.program]]
        var pages = [try help(paths[0])]
        for alternatives in command.words {
            guard pages.allSatisfy({ !$0.subcommands.isEmpty }) else { break }
            guard alternatives.allSatisfy({ !$0.hasPrefix("-") }) else {
                return [
                    "\(command): \(paths.map { $0.joined(separator: " ") }.joined(separator: ", ")) needs a subcommand"
                ]
            }
            var next: [[String]] = []
            for (path, page) in zip(paths, pages) {
                for word in alternatives {
                    guard page.subcommands.contains(word) else {
                        return ["\(command): \(path.joined(separator: " ")) has no subcommand \(word)"]
                    }
                    next.append(path + [word])
                }
            }
            paths = next
            pages = try paths.map(help)
        }
        if let path = zip(paths, pages).first(where: { !$0.1.subcommands.isEmpty })?.0 {
            return ["\(command): \(path.joined(separator: " ")) needs a subcommand"]
        }
        let named = paths.map { $0.joined(separator: " ") }.joined(separator: ", ")
        return command.flags.filter { flag in !pages.contains { $0.flags.contains(flag) } }.map {
            "\(command): \($0) is not an option of \(named)"
        }
    }
}
