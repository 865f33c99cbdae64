import FoundationEssentials
import Glibc

// RFC 3339 times written and read over gmtime_r/timegm/mktime: the only part of Foundation that
// these need is `Date`, and Foundation's ISO 8601 format style would link its calendar, time zone
// and formatting code (several megabytes) into the C library.

/// RFC 3339 (ISO 8601) times as the engine sends them and ccorc writes them.
public enum RFC3339 {
    /// `2026-11-30T06:49:22Z`: `date` in UTC to the second, the fraction dropped, as
    /// `date.formatted(.iso8601)` writes it.
    public static func format(_ date: Date) -> String {
        let parts = utcParts(date)
        return "\(four(parts.tm_year + 1900))-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// `20261130T064922Z`: `date` in UTC to the second, without separators (a file name's stamp).
    public static func compactUTC(_ date: Date) -> String {
        let parts = utcParts(date)
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// Parses `2026-11-30T06:49:22Z`, `2026-11-30T06:49:22.123456789Z` or a numeric offset
    /// (`+01:00`, `-0530`) in place of `Z`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let (clock, rest) = stripFraction(text)
        var bytes = Array(clock.utf8)[...]
        guard var parts = dateAndTime(&bytes), let offset = zoneOffset(bytes) else { return nil }
        parts.tm_isdst = 0
        let seconds = timegm(&parts) - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds)).addingTimeInterval(rest)
    }

    /// Parses `2024-05-01T12:34:56` or `2024-05-01T12:34:56.250` without a zone (Python's
    /// `datetime.isoformat()`), as the local
    /// time of the process's time zone (`TZ`, else `/etc/localtime`); nil for anything else.
    public static func parseLocal(_ text: String) -> Date? {
        // As the Python tool's reader always did: whatever follows the fraction is ignored.
        let clock = text.firstIndex(of: ".").map { text[..<$0] } ?? Substring(text)
        let fraction =
            text.firstIndex(of: ".").map { dot in Double("0" + text[dot...].prefix { $0 == "." || $0.isNumber }) ?? 0 }
            ?? 0
        var bytes = Array(clock.utf8)[...]
        guard var parts = dateAndTime(&bytes), bytes.isEmpty else { return nil }
        parts.tm_isdst = -1
        let seconds = mktime(&parts)
        return Date(timeIntervalSince1970: TimeInterval(seconds)).addingTimeInterval(fraction)
    }

    /// `text` without the `.digits` after its seconds, and those digits as a fraction of a second.
    private static func stripFraction(_ text: String) -> (String, TimeInterval) {
        guard let dot = text.firstIndex(of: ".") else { return (text, 0) }
        let rest = text[text.index(after: dot)...]
        let digits = rest.prefix { $0.isNumber }
        return (String(text[..<dot]) + String(rest.dropFirst(digits.count)), Double("0." + digits) ?? 0)
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS` off the front of `bytes`; nil when it is not there or out of range.
    private static func dateAndTime(_ bytes: inout ArraySlice<UInt8>) -> tm? {
        guard let year = number(&bytes, digits: 4), take(&bytes, "-"), let month = number(&bytes, digits: 2),
            take(&bytes, "-"),
            let day = number(&bytes, digits: 2), take(&bytes, "T"), let hour = number(&bytes, digits: 2),
            take(&bytes, ":"),
            let minute = number(&bytes, digits: 2), take(&bytes, ":"), let second = number(&bytes, digits: 2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return parts
    }

    /// The seconds east of UTC that a zone designator (`Z`, `+HH:MM`, `-HHMM`) names; nil for
    /// anything else, including text after it.
    private static func zoneOffset(_ bytes: ArraySlice<UInt8>) -> Int? {
        var bytes = bytes
        if take(&bytes, "Z") { return bytes.isEmpty ? 0 : nil }
        let sign: Int
        if take(&bytes, "+") { sign = 1 } else if take(&bytes, "-") { sign = -1 } else { return nil }
        guard let hours = number(&bytes, digits: 2) else { return nil }
        _ = take(&bytes, ":")
        guard let minutes = number(&bytes, digits: 2), bytes.isEmpty, hours < 24, minutes < 60 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }

    /// Takes `count` ASCII digits off the front of `bytes` as a number.
    private static func number(_ bytes: inout ArraySlice<UInt8>, digits count: Int) -> Int? {
        guard bytes.count >= count else { return nil }
        var value = 0
        for byte in bytes.prefix(count) {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        bytes.removeFirst(count)
        return value
    }

    /// Takes `character` off the front of `bytes` when it is there.
    private static func take(_ bytes: inout ArraySlice<UInt8>, _ character: Unicode.Scalar) -> Bool {
        guard bytes.first == UInt8(ascii: character) else { return false }
        bytes.removeFirst()
        return true
    }

    /// The days of `month` (1–12) in `year` of the Gregorian calendar.
    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `date`'s calendar fields in UTC, its seconds rounded down (`gmtime_r(3)`).
    private static func utcParts(_ date: Date) -> tm {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return parts
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func four(_ value: Int32) -> String {
        let text = "\(value)"
        return text.count >= 4 ? text : String(repeating: "0", count: 4 - text.count) + text
    }
}
