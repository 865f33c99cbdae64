import Glibc

/// Numbers as C's `printf` writes them, for the few formats the output uses (what
/// `String(format:)` gave, without Foundation).
public enum NumberFormatting {
    /// `value` with `digits` digits after the point (`%.Nf`): `fixed(1.5, digits: 2)` is `1.50`.
    public static func fixed(_ value: Double, digits: Int) -> String {
        format("%.\(digits)f", value)
    }

    /// `value` in the shortest of plain or exponent notation with six significant digits (`%g`).
    public static func general(_ value: Double) -> String {
        format("%g", value)
    }

    /// `vsnprintf` of one double, into a buffer measured by a first call.
    private static func format(_ pattern: String, _ value: Double) -> String {
        let length = Int(withVaList([value]) { vsnprintf(nil, 0, pattern, $0) })
        var buffer = [CChar](repeating: 0, count: length + 1)
        _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, pattern, $0) }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
