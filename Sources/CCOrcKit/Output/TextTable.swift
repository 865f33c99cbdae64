/// Renders rows as left-aligned columns separated by three spaces, like `docker ps` and `tmux ls`.
public struct TextTable {
    /// The column titles.
    public var headers: [String]
    /// The rows; each has one cell per header.
    public var rows: [[String]] = []

    /// A table with these column titles.
    public init(headers: [String]) {
        self.headers = headers
    }

    /// Adds a row.
    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as text, one line per row, trailing spaces trimmed.
    public func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                let isLast = index == cells.count - 1
                text += isLast ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 3)
            }
            return text
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
