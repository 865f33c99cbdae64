extension Unicode.Scalar {
    /// True for `A`–`Z`, `a`–`z` and `0`–`9` (the ASCII part of Foundation's `CharacterSet.alphanumerics`).
    public var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}
