import CCOrcKit
import Foundation
import Testing

/// Rendering of commands for tmux's command parser; the round trip through real tmux is in the
/// integration tests.
@Suite("tmux command quoting")
struct TmuxQuotingTests {
    @Test("plain words stay bare; anything else is single-quoted with escapes outside the quotes")
    func renderings() {
        let cases: [(String, String)] = [
            ("list-sessions", "list-sessions"),
            ("=name:", "=name:"),
            ("-t", "-t"),
            ("", "''"),
            ("a b", "'a b'"),
            ("a;b", "'a;b'"),
            ("#{session_name}", "'#{session_name}'"),
            ("$HOME", "'$HOME'"),
            ("~", "'~'"),
            ("%3", "'%3'"),
            ("it's", "'it'\\''s'"),
            ("'", "\\'"),
            ("line\nbreak", "'line'\\012'break'"),
            ("tab\t", "'tab'\\011"),
            ("\u{1B}[0m", "\\033'[0m'"),
            ("\"q\"", "'\"q\"'"),
            ("back\\slash", "'back\\slash'"),
            ("ünï", "'ünï'"),
        ]
        for (word, rendered) in cases {
            #expect(TmuxQuoting.quote(word) == rendered, "\(word.debugDescription)")
        }
    }

    @Test("a rendered command is one line with no unquoted separator")
    func oneLine() {
        let hostile = ["x\ny", "a; kill-server", "\r", "{", "}", "#", "\\", "'\"'", "\u{7F}", "%if 1"]
        let command = TmuxCommandLine("display-message", ["-p"] + hostile)
        let rendered = command.rendered
        #expect(!rendered.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(rendered.hasPrefix("display-message -p "))
        // Decoding with a model of tmux's lexer gives the words back.
        #expect(TmuxLexerModel.words(rendered) == ["display-message", "-p"] + hostile)
    }

    @Test("random strings survive the model of tmux's lexer")
    func randomRoundTrip() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab ;#$~'\"\\{}%\n\t\r\u{1}é=-:.@/")
        for _ in 0..<2000 {
            let length = Int.random(in: 0...12, using: &generator)
            let word = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(TmuxLexerModel.words("x " + TmuxQuoting.quote(word)) == ["x", word], "\(word.debugDescription)")
        }
    }

    @Test("validation refuses command names and NUL bytes that would break the pipe")
    func validation() {
        #expect(throws: TmuxError.self) { try TmuxCommandLine("", []).validate() }
        #expect(throws: TmuxError.self) { try TmuxCommandLine("# comment", []).validate() }
        #expect(throws: TmuxError.self) { try TmuxCommandLine("kill-server;", []).validate() }
        #expect(throws: TmuxError.self) { try TmuxCommandLine("set-option", ["@x", "a\u{0}b"]).validate() }
        #expect(throws: Never.self) { try TmuxCommandLine("set-option", ["@x", "a\nb"]).validate() }
    }

    @Test("format-expanded arguments double #; argv words ending in ; are escaped")
    func formatsAndArgv() {
        #expect(TmuxQuoting.formatLiteral("a#{b}#S##") == "a##{b}##S####")
        #expect(TmuxQuoting.argumentVectorWord("plain") == "plain")
        #expect(TmuxQuoting.argumentVectorWord("ends;") == "ends\\;")
        #expect(TmuxQuoting.argumentVectorWord(";") == "\\;")
        #expect(TmuxQuoting.argumentVectorWord("a\\;") == "a\\\\;")
    }

    @Test("session names tmux forbids or rewrites are refused with a reason")
    func sessionNames() {
        for name in ["", "a.b", "a:b", "a\nb", "a\tb", "$0", "a$b", "a\\b", "\u{7F}"] {
            #expect(throws: TmuxError.self, "\(name.debugDescription)") { try TmuxNames.validateSessionName(name) }
        }
        for name in ["a b", "q'uote\"d", "semi;colon", "#{x}", "~", "-t", "%if", "ünï ✓", "*"] {
            #expect(throws: Never.self, "\(name.debugDescription)") { try TmuxNames.validateSessionName(name) }
        }
        #expect(throws: TmuxError.self) { try TmuxNames.validateWindowName("a\nb") }
        #expect(throws: Never.self) { try TmuxNames.validateWindowName("a.b:c $d \\e") }
    }

    @Test("server socket paths follow tmux's rules")
    func socketPaths() {
        let uid = getuid()
        #expect(TmuxServer.named("x").socketPath(environment: [:]) == "/tmp/tmux-\(uid)/x")
        // tmux takes a TMUX_TMPDIR that does not resolve as unset.
        #expect(
            TmuxServer.named("x").socketPath(environment: ["TMUX_TMPDIR": "/nonexistent/t/"]) == "/tmp/tmux-\(uid)/x")
        #expect(TmuxServer.named("x").socketPath(environment: ["TMUX_TMPDIR": ""]) == "/tmp/tmux-\(uid)/x")
        #expect(TmuxServer.default.socketPath(environment: [:]) == "/tmp/tmux-\(uid)/default")
        #expect(TmuxServer.default.socketPath(environment: ["TMUX": "/tmp/tmux-5/work,123,4"]) == "/tmp/tmux-5/work")
        #expect(
            TmuxServer.named("x").socketPath(environment: ["TMUX": "/tmp/tmux-5/work,123,4"]) == "/tmp/tmux-\(uid)/x")
        #expect(TmuxServer.socket("/s/p").socketPath(environment: [:]) == "/s/p")
        #expect(throws: TmuxError.self) { try TmuxServer.named("a/b").validate() }
    }
}

/// A model of the part of tmux 3.3a's `yylex_token` that quoted words use: single quotes (nothing
/// expanded), and outside them `\` escapes (`\ooo` octal, `\'`, `\n`…). Anything else in a rendered
/// word would be a bug, so the model fails on it.
enum TmuxLexerModel {
    static func words(_ line: String) -> [String]? {
        var words: [String] = []
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            while bytes.first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
            if bytes.isEmpty { break }
            var word: [UInt8] = []
            var inQuotes = false
            while let byte = bytes.first {
                bytes = bytes.dropFirst()
                if inQuotes {
                    if byte == UInt8(ascii: "'") { inQuotes = false } else { word.append(byte) }
                    continue
                }
                switch byte {
                case UInt8(ascii: " "):
                    break
                case UInt8(ascii: "'"):
                    inQuotes = true
                    continue
                case UInt8(ascii: "\\"):
                    guard let next = bytes.first else { return nil }
                    bytes = bytes.dropFirst()
                    if next >= UInt8(ascii: "0") && next <= UInt8(ascii: "3") {
                        guard bytes.count >= 2 else { return nil }
                        let digits = [next] + bytes.prefix(2)
                        bytes = bytes.dropFirst(2)
                        guard let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 8) else { return nil }
                        word.append(value)
                    } else if next == UInt8(ascii: "'") {
                        word.append(next)
                    } else {
                        return nil
                    }
                    continue
                case UInt8(ascii: ";"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "~"), UInt8(ascii: "\""),
                    UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "%"):
                    return nil  // would be special to tmux outside quotes
                default:
                    if byte < 0x20 || byte == 0x7F { return nil }
                    word.append(byte)
                    continue
                }
                break
            }
            if inQuotes { return nil }
            words.append(String(decoding: word, as: UTF8.self))
        }
        return words
    }
}
