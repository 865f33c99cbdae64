import Foundation
import Testing

@testable import CCOrcKit

/// The helpers that stand in for Foundation in the shipped products give what Foundation gave.
@Suite struct FoundationReplacementTests {
    // Foundation traps on a one-character relative path (`a`, `a/`) in deletingLastPathComponent,
    // so none is compared here.
    static let paths = [
        "", "/", "//", "ab", "ab/", "/a", "/a/", "/a/b", "/a/b/", "a/b", "a//b", "//a//b//", "./a", "../a/b",
        "/home/user/.ccorc", "relative/dir/", "é/ü",
    ]

    @Test func pathHelpersMatchNSString() {
        for path in Self.paths {
            #expect(Path.lastComponent(path) == (path as NSString).lastPathComponent, "lastComponent(\(path))")
            #expect(Path.parent(path) == (path as NSString).deletingLastPathComponent, "parent(\(path))")
            for component in ["", "b", "b/", "/b", "b/c", ".json"] {
                #expect(
                    Path.join(path, component) == (path as NSString).appendingPathComponent(component),
                    "join(\(path), \(component))")
            }
        }
    }

    @Test func trimmingMatchesCharacterSets() {
        let samples = [
            "", " ", "  a b  ", "\ta\t", "\n a \r\n", "\u{00A0}x\u{3000}", "\u{2028}x\u{85}", "\u{0B}\u{0C}y", "z",
            " \n ",
            "\r\n", "é ", " 512m ",
        ]
        for sample in samples {
            #expect(
                sample.trimmingWhitespace() == sample.trimmingCharacters(in: .whitespaces),
                "\(Array(sample.unicodeScalars))")
            #expect(
                sample.trimmingWhitespaceAndNewlines() == sample.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(Array(sample.unicodeScalars))")
            #expect(sample[...].trimmingWhitespace() == sample.trimmingCharacters(in: .whitespaces))
        }
    }

    @Test func numberFormattingMatchesStringFormat() {
        let values: [Double] = [
            0, 0.5, 1, 1.5, 1.25, 2.675, 64, 1023.999, 0.001, 1e-7, 123_456_789, 1e21, -3.5, 99.95, 0.05,
        ]
        for value in values {
            for digits in 0...2 {
                #expect(NumberFormatting.fixed(value, digits: digits) == String(format: "%.\(digits)f", value))
            }
            #expect(NumberFormatting.general(value) == String(format: "%g", value))
        }
    }

    @Test func asciiAlphanumericsMatchCharacterSet() {
        for value in UInt32(0)..<128 {
            let scalar = Unicode.Scalar(value)!
            #expect(scalar.isASCIIAlphanumeric == CharacterSet.alphanumerics.contains(scalar))
        }
    }

    @Test func percentEncodingMatchesFoundation() {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        for value in ["", "plain", "a b&c=d/é", "{\"label\":[\"a=b\"]}", "~-._", "日本", "100%", "ZZ09"] {
            #expect(EngineClient.percentEncode(value) == value.addingPercentEncoding(withAllowedCharacters: allowed))
        }
    }
}
