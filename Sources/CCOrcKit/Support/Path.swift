/// File path strings taken apart and put together as `NSString`'s path methods do it on Linux,
/// without Foundation. `/` is the only separator.
public enum Path {
    /// `component` appended to `directory` with a `/` between them unless `directory` ends in one
    /// (`NSString.appendingPathComponent`); either side empty gives the other unchanged.
    public static func join(_ directory: String, _ component: String) -> String {
        if component.isEmpty { return directory }
        if directory.isEmpty { return component }
        return directory.hasSuffix("/") ? directory + component : directory + "/" + component
    }

    /// The part after the last `/` (`NSString.lastPathComponent`): `b` for `/a//b/`, `/` for `/`.
    public static func lastComponent(_ path: String) -> String {
        let path = collapsingSlashes(path)
        if path.count <= 1 { return path }
        return String(path[startOfLastComponent(path)...])
    }

    /// `path` without its last component (`NSString.deletingLastPathComponent`): `/a` for `/a/b`,
    /// `/` for `/a`, the empty string for `a`.
    public static func parent(_ path: String) -> String {
        let path = collapsingSlashes(path)
        if path == "/" || path.isEmpty { return path }
        let start = startOfLastComponent(path)
        if start == path.startIndex { return "" }
        if start == path.index(after: path.startIndex) { return "/" }
        return String(path[..<path.index(before: start)])
    }

    /// `path` with every run of `/` made one and then one trailing `/` removed; `/` itself stays.
    private static func collapsingSlashes(_ path: String) -> String {
        if path == "/" { return path }
        var result = ""
        result.reserveCapacity(path.utf8.count)
        for character in path where character != "/" || result.last != "/" {
            result.append(character)
        }
        if result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// Where the component after the last `/` begins (the start of `path` when it has no `/`).
    private static func startOfLastComponent(_ path: String) -> String.Index {
        path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
    }
}
