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
        let cellWidths = ([headers] + rows).map { $0.map(TextTable.width) }
        var widths = cellWidths[0]
        for row in cellWidths.dropFirst() {
            for (index, width) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], width)
            }
        }
        var text = ""
        for (cells, cellWidth) in zip([headers] + rows, cellWidths) {
            if !text.isEmpty { text += "\n" }
            for (index, cell) in cells.enumerated() {
                text += cell
                if index < cells.count - 1 {
                    text += String(repeating: " ", count: widths[index] - cellWidth[index] + 3)
                }
            }
        }
        return text
    }

    /// Columns a cell takes: its characters, counted cheaply when it is ASCII (a listing of
    /// thousands of rows spent most of its rendering counting grapheme clusters).
    private static func width(_ cell: String) -> Int {
        cell.utf8.allSatisfy { $0 < 0x80 } ? cell.utf8.count : cell.count
    }
}
