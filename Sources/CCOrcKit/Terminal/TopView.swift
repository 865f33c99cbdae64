// The screen of `ccorc top` as lines of text, and the escapes that draw them.
//
// Hand-written rather than ncurses: the binaries are linked statically, and ncurses would bring a
// library and a terminfo database to find at run time for what is a handful of escapes (alternate
// screen, cursor shown and hidden, cursor position, erase to end of line, bold and reverse video)
// that every terminal tmux runs in, and tmux itself, understands. Only the lines that differ from
// the previous frame are written, which is what ncurses' refresh would have bought.

/// One line of the screen.
public struct TopLine: Sendable, Equatable {
    /// How a line is shown.
    public enum Style: Sendable, Equatable {
        case title, header, row, selected, footer
    }

    /// The text, cut to the terminal's width; table lines are padded to it, so that reverse video
    /// covers the whole line.
    public var text: String
    /// How it is shown.
    public var style: Style

    /// A line; see the properties.
    public init(_ text: String, _ style: Style) {
        self.text = text
        self.style = style
    }
}

/// Turns a `TopState` into the lines of the screen, and lines into escapes.
public enum TopView {
    /// Switches to the alternate screen, hides the cursor and clears.
    public static let enterScreen = "\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J"
    /// Shows the cursor and goes back to the main screen (what `LocalTerminal` writes on the way out).
    public static let leaveScreen = LocalTerminal.leaveScreen.description

    /// The footer's list of keys.
    public static let keysHelp =
        "q quit  Enter attach  / filter  sort: n name  m memory  c cpu  v verdict  s stop  r resume"

    private struct Column {
        var title: String
        var width: Int
        var rightAligned: Bool
    }

    private static let fixedColumns = [
        Column(title: "CONDITION", width: 14, rightAligned: false),
        Column(title: "RUNNING", width: 7, rightAligned: true),
        Column(title: "TMUX", width: 4, rightAligned: true),
        Column(title: "ATTACHED", width: 8, rightAligned: true),
        Column(title: "MEM", width: 7, rightAligned: true),
        Column(title: "CPU%", width: 6, rightAligned: true),
        Column(title: "VERDICT", width: 8, rightAligned: false),
    ]

    /// Exactly `state.size.rows` lines: a title (session count, filter, order), the column header,
    /// the rows on screen (the selected one marked `>`), blank lines, and the footer (the keys, a
    /// message, the filter being typed or a y/n question).
    public static func lines(_ state: TopState) -> [TopLine] {
        let width = state.size.columns
        var lines: [TopLine] = [TopLine(fit(title(state), width), .title)]
        let nameWidth = nameColumnWidth(state)
        lines.append(TopLine(fit(format(["NAME"] + fixedColumns.map(\.title), nameWidth, marker: " "), width), .header))
        var body: [TopLine] = state.onScreen.enumerated().map { offset, row in
            let selected = state.scrollOffset + offset == state.selectedIndex
            let text = format(cells(row, state.usage[row.name]), nameWidth, marker: selected ? ">" : " ")
            return TopLine(fit(text, width), selected ? .selected : .row)
        }
        if body.isEmpty && state.loaded {
            let text = state.filter.map { "  no session matches \"\($0)\"" } ?? "  no sessions"
            body.append(TopLine(fit(text, width), .row))
        }
        while body.count < state.bodyHeight { body.append(TopLine(fit("", width), .row)) }
        lines += body
        // The last column of the last line is left alone: some terminals scroll when it is written.
        lines.append(TopLine(String(footer(state).prefix(max(0, width - 1))), .footer))
        return Array(lines.prefix(state.size.rows))
    }

    /// The first line: `ccorc top: N sessions[, M shown, filter "F"], sort KEY[ reversed]`.
    public static func title(_ state: TopState) -> String {
        guard state.loaded else { return "ccorc top: loading sessions" }
        var text = "ccorc top: \(state.rows.count) session\(state.rows.count == 1 ? "" : "s")"
        if let filter = state.filter { text += ", \(state.visible.count) shown, filter \"\(filter)\"" }
        text += ", sort \(state.sort.word)" + (state.reversed ? " reversed" : "")
        return text
    }

    /// The last line.
    public static func footer(_ state: TopState) -> String {
        switch state.mode {
        case .filtering(let draft): return "filter: \(draft)_  (Enter applies, Esc clears; a * ? or [ makes it a glob)"
        case .confirming(let operation, let session): return "\(operation.rawValue) \(session)? (y/n)"
        case .browsing: return state.message ?? keysHelp
        }
    }

    /// A row's cells, NAME first.
    static func cells(_ row: TopRow, _ usage: TopUsage?) -> [String] {
        let hasUsage = row.running > 0 ? usage : nil
        return [
            row.name, row.condition.words, "\(row.running)/\(row.total)", row.tmuxWindows.map(String.init) ?? "✗",
            String(row.attached), hasUsage.map { bytes($0.memoryBytes) } ?? "-",
            hasUsage?.cpuPercent.map { NumberFormatting.fixed($0, digits: 1) } ?? "-", row.verdict.rawValue,
        ]
    }

    /// Memory in binary units as `top` writes it: `512B`, `3.4K`, `120M`, `1.5G`.
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(count)B" }
        return NumberFormatting.fixed(value, digits: value < 10 ? 1 : 0) + units[unit]
    }

    /// The NAME column: as wide as the longest name shown through the filter (so that it does not
    /// jump while scrolling), and no wider than what leaves the other columns room unless that
    /// would cut names below 12 characters (the columns on the right go first).
    private static func nameColumnWidth(_ state: TopState) -> Int {
        let longest = state.visible.reduce(4) { max($0, $1.name.count) }
        let others = fixedColumns.reduce(2) { $0 + $1.width + 1 }
        return max(min(longest, 12), min(longest, state.size.columns - others))
    }

    private static func format(_ cells: [String], _ nameWidth: Int, marker: Character) -> String {
        var text = String(marker) + " " + pad(cells[0], nameWidth, right: false)
        for (column, cell) in zip(fixedColumns, cells.dropFirst()) {
            text += " " + pad(cell, column.width, right: column.rightAligned)
        }
        return text
    }

    private static func pad(_ text: String, _ width: Int, right: Bool) -> String {
        let cut = text.count > width ? String(text.prefix(max(0, width - 1))) + "…" : text
        let fill = String(repeating: " ", count: max(0, width - cut.count))
        return right ? fill + cut : cut + fill
    }

    /// `text` cut or padded with spaces to `width` characters.
    private static func fit(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }

    // MARK: Escapes

    /// The escapes that turn a screen showing `previous` into one showing `next`: every line when
    /// there is no previous frame or its line count differs (after a resize), else only the lines
    /// that changed.
    public static func frame(from previous: [TopLine]?, to next: [TopLine]) -> String {
        var output = ""
        let redrawAll = previous?.count != next.count
        if redrawAll { output += "\u{1B}[H\u{1B}[2J" }
        for (index, line) in next.enumerated() where redrawAll || previous?[index] != line {
            output += "\u{1B}[\(index + 1);1H" + styled(line) + "\u{1B}[K"
        }
        return output
    }

    /// A line with its style's escapes, attributes reset at its end.
    public static func styled(_ line: TopLine) -> String {
        switch line.style {
        case .title, .header: return "\u{1B}[1m" + line.text + "\u{1B}[0m"
        case .selected: return "\u{1B}[7m" + line.text + "\u{1B}[0m"
        case .row, .footer: return line.text
        }
    }
}
