import Foundation
import Testing

@testable import CCOrcKit

/// The libc-based helpers that keep the C library clear of FoundationEssentials (all of it but
/// `Date`) give what Foundation gave.
@Suite struct EssentialsReplacementTests {
    /// Times as the engine sends them (`docker inspect` of this project's containers) and as
    /// other tools write them.
    static let recordedTimes = [
        "2026-11-30T06:49:22.123456789Z", "2026-11-25T22:10:02.5Z", "2026-11-30T06:49:22Z", "2024-05-01T12:34:56Z",
        "2024-02-29T23:59:59.999999999Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2038-01-19T03:14:08Z",
        "2026-11-30T07:49:22+01:00", "2026-11-30T01:19:22-05:30", "2026-11-30T07:49:22.25+01:00",
    ]

    /// What `EngineTime.parse` did over Foundation: the fraction cut out, the rest parsed by the
    /// ISO 8601 strategy, the fraction added back.
    static func foundationParse(_ text: String) -> Date? {
        var main = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let rest = text[text.index(after: dot)...]
            let digits = rest.prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            main = String(text[..<dot]) + String(rest.dropFirst(digits.count))
        }
        return (try? Date(main, strategy: .iso8601)).map { $0.addingTimeInterval(fraction) }
    }

    @Test func parsesRecordedEngineTimesAsFoundationDid() throws {
        for text in Self.recordedTimes {
            let parsed = try #require(RFC3339.parse(text), "\(text)")
            #expect(parsed == Self.foundationParse(text), "\(text)")
        }
        let nanos = try #require(RFC3339.parse("2026-11-30T06:49:22.123456789Z"))
        #expect(nanos == Date(timeIntervalSince1970: 1_796_021_362).addingTimeInterval(0.123456789))
        #expect(RFC3339.parse("2026-11-30T07:49:22+01:00") == RFC3339.parse("2026-11-30T06:49:22Z"))
    }

    @Test func rejectsMalformedTimes() {
        let bad = [
            "", "garbage", "2026-11-30", "2026-11-30T06:49Z", "2026-11-30T06:49:22", "2026-13-01T00:00:00Z",
            "2026-11-30 06:49:22Z",
        ]
        for text in bad {
            #expect(RFC3339.parse(text) == nil, "\(text)")
            #expect(Self.foundationParse(text) == nil, "Foundation accepted \(text)")
        }
        // Foundation rolled these over (February 30th, hour 24, minute 60), ignored what follows
        // the zone, read a two-digit year or a one-digit offset; the engine never sends them, and
        // they are refused rather than guessed at.
        let acceptedByFoundation = [
            "2026-02-30T00:00:00Z", "2026-11-30T24:00:00Z", "2026-11-30T06:60:22Z", "2026-11-30T06:49:22Zjunk",
            "26-11-30T06:49:22Z", "2026-11-30T06:49:22+1",
        ]
        for text in acceptedByFoundation { #expect(RFC3339.parse(text) == nil, "\(text)") }
    }

    @Test func formatsAsFoundationsISO8601Style() {
        var dates = Self.recordedTimes.compactMap(RFC3339.parse)
        dates += [0, 0.999, -0.5, -1, 1_796_021_362.999999, 951_868_800, 4_102_444_800, -2_208_988_800].map(
            Date.init(timeIntervalSince1970:))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 { dates.append(Date(timeIntervalSince1970: Double.random(in: -2e9...4e9, using: &generator))) }
        for date in dates {
            #expect(RFC3339.format(date) == date.formatted(.iso8601), "\(date.timeIntervalSince1970)")
            #expect(
                RFC3339.parse(RFC3339.format(date))
                    == Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
        }
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_796_021_362.123456789)) == "2026-11-30T06:49:22Z")
    }

    @Test func compactStampMatchesCalendarFields() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for seconds in [0, 1_796_021_362.75, 951_868_799, 4_102_444_800] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
            let expected =
                "\(parts.year ?? 0)\(two(parts.month))\(two(parts.day))T\(two(parts.hour))\(two(parts.minute))\(two(parts.second))Z"
            #expect(RFC3339.compactUTC(date) == expected)
        }
        #expect(RFC3339.compactUTC(Date(timeIntervalSince1970: 1_796_021_362)) == "20261130T064922Z")
    }

    @Test func parsesLocalTimesAsFoundationDid() throws {
        let style = Date.ISO8601FormatStyle(timeZone: .current).year().month().day().dateTimeSeparator(.standard)
            .time(includingFractionalSeconds: false)
        for text in ["2024-05-01T12:34:56", "2023-12-31T23:59:59", "2026-07-04T03:00:00", "2000-02-29T00:00:00"] {
            #expect(RFC3339.parseLocal(text) == (try? style.parse(text)), "\(text)")
            let withFraction = try #require(RFC3339.parseLocal(text + ".250"))
            #expect(withFraction == (try style.parse(text)).addingTimeInterval(0.25))
        }
        for text in ["2024-05-01", "2024-05-01T12:34", "not a time"] {
            #expect(RFC3339.parseLocal(text) == nil, "\(text)")
            #expect((try? style.parse(text)) == nil, "Foundation accepted \(text)")
        }
        // Foundation ignored a trailing zone and rolled February 30th over; neither is guessed at
        // now (times with a zone go to `parse`).
        for text in ["2024-05-01T12:34:56Z", "2024-02-30T00:00:00"] {
            #expect(RFC3339.parseLocal(text) == nil, "\(text)")
        }
    }

    @Test func base64DecodesAsDataDid() {
        let samples = [
            "", "YQ==", "YWI=", "YWJj", "eyJuYW1lIjoiY2xhdWRlIiwic2l6ZSI6NDA5NiwibW9kZSI6MjE0NzQ4NDY1Mn0=", "+/+/",
            "AAEC/w==",
            "YQ", "YQ=", "Y===", "YQ==YQ==", "YW Jj", "YWJj\n", "Y!Jj", "=YWJ", "ä===",
        ]
        for sample in samples {
            #expect(Base64.decode(sample) == Data(base64Encoded: sample).map { [UInt8]($0) }, "\(sample)")
        }
        // Foundation's decoder took `YQ=a` (padding in the middle) for [97, 26]; it is not base64.
        #expect(Base64.decode("YQ=a") == nil)
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255) }
        #expect(Base64.decode(Data(bytes).base64EncodedString()) == bytes)
    }

    @Test func environmentMatchesProcessInfo() {
        #expect(ProcessEnvironment.current == ProcessInfo.processInfo.environment)
        #expect(ProcessEnvironment.value("PATH") == ProcessInfo.processInfo.environment["PATH"])
        #expect(ProcessEnvironment.value("CCORC_SURELY_NOT_SET_ANYWHERE") == nil)
        #expect(ProcessEnvironment.homeDirectory(["HOME": "/somewhere"]) == "/somewhere")
        let passwordHome = FileManager.default.homeDirectoryForCurrentUser.path
        #expect(ProcessEnvironment.homeDirectory(["HOME": ""]) == passwordHome)
        #expect(ProcessEnvironment.homeDirectory([:]) == passwordHome)
        #expect((1...ProcessInfo.processInfo.processorCount).contains(ProcessEnvironment.activeProcessorCount))
    }

    @Test func fileHelpersMatchFileManager() throws {
        let directory = NSTemporaryDirectory() + "ccorc-essentials-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(FileManager.default.createFile(atPath: directory + "/large", contents: Data(large)))
        #expect(FileManager.default.createFile(atPath: directory + "/empty", contents: Data()))
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/link", withDestinationPath: directory + "/large")
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/dangling", withDestinationPath: directory + "/missing")
        for name in ["", "/large", "/empty", "/link", "/dangling", "/missing"] {
            let path = directory + name
            #expect(fileExists(path) == FileManager.default.fileExists(atPath: path), "\(name)")
            #expect(readWholeFile(path) == FileManager.default.contents(atPath: path).map { [UInt8]($0) }, "\(name)")
        }
        #expect(readWholeFile(directory + "/large") == large)
        #expect(throws: FileReadError.self) { try readFileBytes(directory + "/missing") }
        #expect(readError(directory + "/missing") == "cannot read \(directory)/missing: No such file or directory")
        #expect(readError(directory) == "cannot read \(directory): it cannot be read as a whole file")
    }

    /// The message that reading `path` whole fails with; nil when it succeeds.
    private func readError(_ path: String) -> String? {
        do {
            _ = try readFileBytes(path)
            return nil
        } catch let error as FileReadError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func textSearchMatchesFoundation() {
        let haystacks = [
            "", "abc", "no server running on /tmp/x", "-----BEGIN KEY-----x-----END KEY-----", "a<masked>b<masked>",
            "ééé", "aaa",
        ]
        let needles = ["a", "aa", "abc", "://", "-----", "<masked>", "é", "no server running", "zz"]
        for haystack in haystacks {
            for needle in needles {
                let expected = haystack.range(of: needle)
                #expect(haystack.firstRange(of: needle) == expected, "\(haystack) / \(needle)")
                #expect(haystack.contains(needle) == (expected != nil), "\(haystack) / \(needle)")
                #expect(haystack.dropFirst().firstRange(of: needle) == haystack.dropFirst().range(of: needle))
                #expect(haystack.replacing(needle, with: "#") == haystack.replacingOccurrences(of: needle, with: "#"))
                #expect(
                    SecretMasking.markerCount(in: haystack) == haystack.components(separatedBy: SecretMasking.marker)
                        .count - 1)
            }
        }
    }
}
