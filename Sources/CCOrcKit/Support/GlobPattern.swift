/// Shell-style patterns on names: `*`, `?` and bracket classes `[abc]`, `[a-z]`, `[!x]`.
public struct GlobPattern: Sendable, Equatable {
    private enum Token: Sendable, Equatable {
        case literal(Character)
        case anyOne
        case anyRun
        case set([ClosedRange<Character>], negated: Bool)
    }

    /// The pattern as given.
    public let text: String
    private let tokens: [Token]

    /// Compiles a pattern.
    /// - Throws: `EngineError.Code.invalidInput` for an unclosed `[`.
    public init(_ text: String) throws {
        self.text = text
        var tokens: [Token] = []
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            switch character {
            case "*": if tokens.last != .anyRun { tokens.append(.anyRun) }
            case "?": tokens.append(.anyOne)
            case "\\": tokens.append(.literal(characters.popFirst() ?? "\\"))
            case "[":
                var negated = false
                if characters.first == "!" || characters.first == "^" {
                    negated = true
                    characters.removeFirst()
                }
                var ranges: [ClosedRange<Character>] = []
                var closed = false
                var first = true
                while let member = characters.popFirst() {
                    if member == "]" && !first {
                        closed = true
                        break
                    }
                    first = false
                    if characters.count >= 2, characters.first == "-", characters.dropFirst().first != "]" {
                        characters.removeFirst()
                        let upper = characters.removeFirst()
                        guard member <= upper else {
                            throw EngineError(
                                .invalidInput, "invalid pattern \"\(text)\": range \(member)-\(upper) is reversed")
                        }
                        ranges.append(member...upper)
                    } else {
                        ranges.append(member...member)
                    }
                }
                guard closed else { throw EngineError(.invalidInput, "invalid pattern \"\(text)\": unclosed [") }
                tokens.append(.set(ranges, negated: negated))
            default: tokens.append(.literal(character))
            }
        }
        self.tokens = tokens
    }

    /// Whether `text` contains pattern characters at all.
    public static func isPattern(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// Whether the whole of `name` matches.
    public func matches(_ name: String) -> Bool {
        let characters = Array(name)
        // Iterative matching with one backtrack point for the latest `*`: linear in practice.
        var tokenIndex = 0
        var characterIndex = 0
        var starToken = -1
        var starCharacter = 0
        while characterIndex < characters.count {
            if tokenIndex < tokens.count, matchesOne(tokens[tokenIndex], characters[characterIndex]) {
                tokenIndex += 1
                characterIndex += 1
            } else if tokenIndex < tokens.count, tokens[tokenIndex] == .anyRun {
                starToken = tokenIndex
                starCharacter = characterIndex
                tokenIndex += 1
            } else if starToken >= 0 {
                tokenIndex = starToken + 1
                starCharacter += 1
                characterIndex = starCharacter
            } else {
                return false
            }
        }
        while tokenIndex < tokens.count, tokens[tokenIndex] == .anyRun { tokenIndex += 1 }
        return tokenIndex == tokens.count
    }

    private func matchesOne(_ token: Token, _ character: Character) -> Bool {
        switch token {
        case .literal(let literal): return literal == character
        case .anyOne: return true
        case .anyRun: return false
        case .set(let ranges, let negated): return ranges.contains { $0.contains(character) } != negated
        }
    }
}
