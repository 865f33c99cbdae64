extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (Foundation's
    /// `trimmingWhitespace()`: Unicode white space other than line breaks).
    public func trimmingWhitespace() -> String {
        trimming { $0.properties.isWhitespace && !Unicode.Scalar.lineBreaks.contains($0.value) }
    }

    /// The text without leading and trailing white space and line breaks (Foundation's
    /// `trimmingWhitespaceAndNewlines()`).
    public func trimmingWhitespaceAndNewlines() -> String {
        trimming { $0.properties.isWhitespace }
    }

    /// The text without the leading and trailing scalars that `isTrimmed` selects.
    private func trimming(_ isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = String(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isTrimmed($0) })!
        return String(Substring(scalars[first...last]))
    }
}

extension Unicode.Scalar {
    /// The white space that Foundation's `CharacterSet.newlines` holds: LF, VT, FF, CR, NEL, LS, PS.
    fileprivate static let lineBreaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029]
}
