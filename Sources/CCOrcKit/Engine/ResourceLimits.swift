import Glibc

/// Parsing and formatting of the human limits users type (`512m`, `4g`, `1.5`).
public enum ResourceLimits {
    /// Parses a memory size such as `512m`, `4g`, `1.5g`, `64k` or a plain byte count into bytes.
    /// Suffixes are binary (k = 1024) and case-insensitive; a trailing `b` or `ib` is allowed.
    /// - Throws: `EngineError.Code.invalidInput` for zero, negative or unparsable values.
    public static func parseMemory(_ text: String) throws -> Int64 {
        var body = text.trimmingWhitespace().lowercased()
        let invalid = EngineError(
            .invalidInput,
            "invalid memory size \"\(text)\": use a positive number with an optional unit, e.g. 512m or 4g")
        if body.hasSuffix("ib") { body.removeLast(2) } else if body.hasSuffix("b") { body.removeLast() }
        var multiplier: Double = 1
        if let unit = body.last, let power = ["k": 1, "m": 2, "g": 3, "t": 4][String(unit)] {
            multiplier = pow(1024, Double(power))
            body.removeLast()
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isNumber || $0 == "." }), let number = Double(body), number > 0 else {
            throw invalid
        }
        let bytes = (number * multiplier).rounded()
        guard bytes >= 1, bytes < 9e18 else { throw invalid }
        return Int64(bytes)
    }

    /// Parses a CPU count such as `0.5` or `2` into billionths of a CPU (the engine's NanoCpus).
    /// - Throws: `EngineError.Code.invalidInput` for zero, negative or unparsable values.
    public static func parseCPUs(_ text: String) throws -> Int64 {
        let body = text.trimmingWhitespace()
        guard !body.isEmpty, body.allSatisfy({ $0.isNumber || $0 == "." }), let number = Double(body), number > 0,
            number <= 4096
        else {
            throw EngineError(.invalidInput, "invalid CPU count \"\(text)\": use a positive number such as 0.5 or 2")
        }
        let nano = (number * 1e9).rounded()
        guard nano >= 1_000_000 else {
            throw EngineError(.invalidInput, "invalid CPU count \"\(text)\": the smallest is 0.001")
        }
        return Int64(nano)
    }

    /// Formats bytes the way `docker stats` does: `64MiB`, `1.5GiB`.
    public static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(bytes)B" }
        return value.rounded() == value
            ? NumberFormatting.fixed(value, digits: 0) + units[index]
            : NumberFormatting.fixed(value, digits: 2) + units[index]
    }

    /// Formats NanoCpus as a CPU count: `0.5`, `2`.
    public static func formatCPUs(_ nanoCPUs: Int64) -> String {
        let value = Double(nanoCPUs) / 1e9
        return value.rounded() == value ? NumberFormatting.fixed(value, digits: 0) : NumberFormatting.general(value)
    }
}
