// Searching text for text. The standard library leaves `contains(_:)`, `firstRange(of:)` and
// `replacing(_:with:)` with a string argument to the _StringProcessing module, whose one object
// file brings the regex engine and parser (more than a megabyte) into the static C library.
// These overloads are declared in this module, so the compiler picks them for a `String` argument
// (a module's own declaration shadows an imported one of the same signature, and a non-generic
// one beats a generic one) and the library links none of it. They compare `Character`s, as the
// _StringProcessing versions do.

extension StringProtocol {
    /// The range of the first occurrence of `other`; nil when there is none, an empty range at
    /// the start when `other` is empty.
    func firstRange(of other: String) -> Range<Index>? {
        guard !other.isEmpty else { return startIndex..<startIndex }
        var index = startIndex
        while index != endIndex {
            if self[index...].starts(with: other) { return index..<self.index(index, offsetBy: other.count) }
            formIndex(after: &index)
        }
        return nil
    }

    /// True when `other` occurs in the text (always for the empty string).
    func contains(_ other: String) -> Bool {
        firstRange(of: other) != nil
    }
}

extension String {
    /// The text with every occurrence of `target`, from the left and not overlapping, replaced by
    /// `replacement`; `target` must not be empty.
    func replacing(_ target: String, with replacement: String) -> String {
        precondition(!target.isEmpty, "replacing an empty string")
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
