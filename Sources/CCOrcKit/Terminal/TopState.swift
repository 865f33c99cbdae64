// What `ccorc top` shows and how each key changes it: pure state over plain values, tested alone.
// Gathering (the watch stream, the cgroup files, the keyboard, the terminal's size) and drawing
// are the CLI's `TopCommand.swift`.

/// One session as `ccorc top` shows it.
public struct TopRow: Sendable, Equatable {
    /// The session's name.
    public var name: String
    /// Its tmux session's name (what attaching targets).
    public var tmuxSession: String
    /// Its condition (the CONDITION column).
    public var condition: SessionCondition
    /// How many agents' containers run.
    public var running: Int
    /// How many agents it has.
    public var total: Int
    /// Its tmux session's window count; nil when it has no tmux session.
    public var tmuxWindows: Int?
    /// The clients attached to its tmux session.
    public var attached: Int
    /// The health verdict.
    public var verdict: HealthVerdict
    /// The IDs of the containers that run: the ones whose cgroup files are read.
    public var runningContainerIDs: [String]

    /// A row from its figures; see the properties.
    public init(
        name: String, tmuxSession: String? = nil, condition: SessionCondition, running: Int, total: Int,
        tmuxWindows: Int?, attached: Int, verdict: HealthVerdict, runningContainerIDs: [String] = []
    ) {
        self.name = name
        self.tmuxSession = tmuxSession ?? name
        self.condition = condition
        self.running = running
        self.total = total
        self.tmuxWindows = tmuxWindows
        self.attached = attached
        self.verdict = verdict
        self.runningContainerIDs = runningContainerIDs
    }

    /// The row of a watched session.
    public init(_ session: WatchedSession) {
        let status = session.status
        self.init(
            name: status.record.name.rawValue, tmuxSession: status.record.tmuxSession, condition: status.condition,
            running: status.runningCount, total: status.agents.count, tmuxWindows: status.tmux?.windows,
            attached: status.tmux?.attached ?? 0, verdict: session.health.verdict,
            runningContainerIDs: status.agents.compactMap { $0.state == "running" ? $0.container?.id : nil })
    }
}

/// A session's memory and CPU, summed over its running containers.
public struct TopUsage: Sendable, Equatable {
    /// Memory in use, bytes.
    public var memoryBytes: Int64
    /// CPU use since the previous reading, in percent of one CPU; nil on the first reading.
    public var cpuPercent: Double?

    /// A usage; see the properties.
    public init(memoryBytes: Int64, cpuPercent: Double?) {
        self.memoryBytes = memoryBytes
        self.cpuPercent = cpuPercent
    }
}

/// Turns successive cgroup readings of containers into each session's memory and CPU percentage.
public struct TopUsageMeter: Sendable {
    /// Each container's CPU time at its previous reading, and when that was (nanoseconds on a
    /// monotonic clock).
    private var previous: [String: (cpuNanoseconds: UInt64, at: UInt64)] = [:]

    /// A meter with no readings yet.
    public init() {}

    /// Records one round of readings, taken at `time` (nanoseconds on a monotonic clock), and
    /// returns each session's usage. A container read in this round but not the previous one adds
    /// its memory but no CPU; a session none of whose containers could be read is left out.
    /// Containers not read in this round are forgotten (rows scrolled off the screen).
    /// - Parameter readings: by session name, each running container's ID and its reading (nil
    ///   when its cgroup could not be read).
    public mutating func record(
        _ readings: [String: [(id: String, usage: ResourceUsage?)]], at time: UInt64
    )
        -> [String: TopUsage]
    {
        var result: [String: TopUsage] = [:]
        var next: [String: (cpuNanoseconds: UInt64, at: UInt64)] = [:]
        for (session, containers) in readings {
            var memory: Int64 = 0
            var cpu: Double?
            var read = false
            for (id, usage) in containers {
                guard let usage else { continue }
                read = true
                memory += usage.memoryUsage
                next[id] = (usage.cpuUsageNanoseconds, time)
                if let before = previous[id], time > before.at {
                    let used =
                        usage.cpuUsageNanoseconds >= before.cpuNanoseconds
                        ? usage.cpuUsageNanoseconds - before.cpuNanoseconds : 0
                    cpu = (cpu ?? 0) + Double(used) / Double(time - before.at) * 100
                }
            }
            if read { result[session] = TopUsage(memoryBytes: memory, cpuPercent: cpu) }
        }
        previous = next
        return result
    }
}

/// The order of `ccorc top`'s rows, chosen by a key.
public enum TopSortKey: Character, Sendable, CaseIterable {
    /// By name, A to Z.
    case name = "n"
    /// By memory, most first.
    case memory = "m"
    /// By CPU, most first.
    case cpu = "c"
    /// By verdict, worst first.
    case verdict = "v"

    /// How the title and footer say it.
    public var word: String {
        switch self {
        case .name: return "name"
        case .memory: return "memory"
        case .cpu: return "cpu"
        case .verdict: return "verdict"
        }
    }
}

/// A session operation `ccorc top` runs after a confirmation.
public enum TopOperation: String, Sendable {
    /// `ccorc stop NAME`.
    case stop
    /// `ccorc resume --detach NAME`.
    case resume
}

/// What the keyboard is doing.
public enum TopMode: Sendable, Equatable {
    /// Moving through the rows.
    case browsing
    /// Typing a filter (`/`), not yet applied.
    case filtering(draft: String)
    /// Asking y/n before an operation on a session.
    case confirming(TopOperation, session: String)
}

/// What the code around `TopState` must do after a key.
public enum TopEffect: Sendable, Equatable {
    /// Nothing beyond drawing again.
    case none
    /// Restore the terminal and end.
    case quit
    /// Restore the terminal and hand it to the tmux session `tmuxSession` (of session `session`).
    case attach(session: String, tmuxSession: String)
    /// Run the operation on the session (confirmed).
    case run(TopOperation, session: String)
}

/// One key as `ccorc top` understands it.
public enum TopKey: Sendable, Equatable {
    case up, down, pageUp, pageDown, home, end, enter, escape, backspace, interrupt
    /// A printable character.
    case character(Character)

    /// Decodes what one read of a raw-mode terminal returned: characters (UTF-8), control keys and
    /// the escape sequences of xterm and tmux (`ESC [ A`, `ESC O A`, `ESC [ 5 ~`, ...). An escape
    /// byte with nothing after it in the read is the Esc key; sequences not understood are skipped.
    public static func decode(_ bytes: [UInt8]) -> [TopKey] {
        var keys: [TopKey] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x1B:
                guard index + 1 < bytes.count,
                    bytes[index + 1] == UInt8(ascii: "[") || bytes[index + 1] == UInt8(ascii: "O")
                else {
                    keys.append(.escape)
                    index += 1
                    continue
                }
                // CSI or SS3: parameters, then one final byte in 0x40...0x7E.
                var end = index + 2
                while end < bytes.count, !(0x40...0x7E).contains(bytes[end]) || (end == index + 2 && bytes[end] == 0x5B)
                {
                    end += 1
                }
                guard end < bytes.count else {
                    index = bytes.count
                    continue
                }
                let parameters = String(decoding: bytes[(index + 2)..<end], as: UTF8.self)
                if let key = sequenceKey(parameters: parameters, final: bytes[end]) { keys.append(key) }
                index = end + 1
            case 0x0D, 0x0A:
                keys.append(.enter)
                index += 1
            case 0x7F, 0x08:
                keys.append(.backspace)
                index += 1
            case 0x03:
                keys.append(.interrupt)
                index += 1
            case 0x20...0x7E:
                keys.append(.character(Character(Unicode.Scalar(byte))))
                index += 1
            case 0xC0...0xF7:
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                let end = min(bytes.count, index + length)
                if let character = String(decoding: bytes[index..<end], as: UTF8.self).first,
                    character != "\u{FFFD}"
                {
                    keys.append(.character(character))
                }
                index = end
            default: index += 1
            }
        }
        return keys
    }

    private static func sequenceKey(parameters: String, final: UInt8) -> TopKey? {
        switch (parameters, Character(Unicode.Scalar(final))) {
        case ("", "A"): return .up
        case ("", "B"): return .down
        case ("", "H"), ("1", "~"), ("7", "~"): return .home
        case ("", "F"), ("4", "~"), ("8", "~"): return .end
        case ("5", "~"): return .pageUp
        case ("6", "~"): return .pageDown
        default: return nil
        }
    }
}

/// Everything `ccorc top` shows: the sessions, their usage, the order, the filter, the selection,
/// the scroll position, the terminal's size and the footer's mode.
public struct TopState: Sendable {
    /// Every session the watch reports, by name.
    public private(set) var rows: [String: TopRow] = [:]
    /// The latest usage of the sessions whose containers were read, by name.
    public private(set) var usage: [String: TopUsage] = [:]
    /// The rows that pass the filter, in order: what the table lists.
    public private(set) var visible: [TopRow] = []
    /// The order.
    public private(set) var sort: TopSortKey = .name
    /// Whether the order is the key's reverse (the same sort key pressed again).
    public private(set) var reversed = false
    /// The applied filter: a substring of names, or a glob when it has `*`, `?` or `[`; nil for none.
    public private(set) var filter: String?
    /// What the keyboard is doing.
    public private(set) var mode: TopMode = .browsing
    /// The selected row's index in `visible`.
    public private(set) var selectedIndex = 0
    /// The index in `visible` of the first row on the screen.
    public private(set) var scrollOffset = 0
    /// The terminal's size.
    public private(set) var size: (rows: Int, columns: Int)
    /// A line for the footer until the next key (an operation's outcome), or nil.
    public var message: String?
    /// Whether the first snapshot has arrived.
    public private(set) var loaded = false

    /// The selected session's name, kept across reorders.
    private var selectedName: String?

    /// An empty table for a terminal of `rows` by `columns`.
    public init(rows: Int, columns: Int) {
        size = (rows, columns)
    }

    /// How many table rows fit: the terminal less the title, the header and the footer.
    public var bodyHeight: Int { max(1, size.rows - 3) }

    /// The selected row, if any.
    public var selected: TopRow? { visible.indices.contains(selectedIndex) ? visible[selectedIndex] : nil }

    /// The rows on the screen.
    public var onScreen: ArraySlice<TopRow> {
        visible[min(scrollOffset, visible.count)..<min(visible.count, scrollOffset + bodyHeight)]
    }

    // MARK: Feeding

    /// Applies one change of the watch stream.
    /// - Parameter reordering: recompute `visible` now; false leaves that to `reorder()`, once for
    ///   a burst of changes (a thousand sessions stopping at once).
    public mutating func apply(_ change: SessionChange, reordering: Bool = true) {
        switch change {
        case .snapshot(let sessions):
            rows = Dictionary(sessions.map { (TopRow($0).name, TopRow($0)) }, uniquingKeysWith: { $1 })
            loaded = true
        case .added(let session), .changed(_, let session, _):
            let row = TopRow(session)
            rows[row.name] = row
        case .removed(let name):
            rows[name.rawValue] = nil
            usage[name.rawValue] = nil
        case .resync:
            return
        }
        if reordering { reorder() }
    }

    /// Replaces every row (what a snapshot does, from plain rows).
    public mutating func setRows(_ newRows: [TopRow]) {
        rows = Dictionary(newRows.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        loaded = true
        reorder()
    }

    /// Records the usage just read; sessions not in `newUsage` show no figures.
    public mutating func setUsage(_ newUsage: [String: TopUsage]) {
        usage = newUsage
        if sort == .memory || sort == .cpu { reorder() }
    }

    /// Records the terminal's new size.
    public mutating func resize(rows: Int, columns: Int) {
        size = (max(1, rows), max(1, columns))
        keepSelectionOnScreen()
    }

    // MARK: Keys

    /// Applies one key and says what else must happen.
    public mutating func handle(_ key: TopKey) -> TopEffect {
        switch mode {
        case .filtering(let draft):
            switch key {
            case .enter:
                mode = .browsing
                filter = draft.isEmpty ? nil : draft
                reorder()
            case .escape:
                mode = .browsing
                filter = nil
                reorder()
            case .backspace: mode = .filtering(draft: String(draft.dropLast()))
            case .character(let character): mode = .filtering(draft: draft + String(character))
            case .interrupt: return .quit
            default: break
            }
            return .none
        case .confirming(let operation, let session):
            mode = .browsing
            if key == .character("y") || key == .character("Y") { return .run(operation, session: session) }
            if key == .interrupt { return .quit }
            message = "\(operation.rawValue) cancelled"
            return .none
        case .browsing:
            message = nil
            switch key {
            case .up: select(selectedIndex - 1)
            case .down: select(selectedIndex + 1)
            case .pageUp: select(selectedIndex - bodyHeight)
            case .pageDown: select(selectedIndex + bodyHeight)
            case .home: select(0)
            case .end: select(visible.count - 1)
            case .interrupt, .character("q"), .character("Q"): return .quit
            case .escape:
                if filter != nil {
                    filter = nil
                    reorder()
                }
            case .enter:
                guard let row = selected else { break }
                guard row.tmuxWindows != nil else {
                    message = "\(row.name) has no tmux session (r resumes it)"
                    break
                }
                return .attach(session: row.name, tmuxSession: row.tmuxSession)
            case .character("/"): mode = .filtering(draft: filter ?? "")
            case .character("s"), .character("r"):
                guard let row = selected else { break }
                mode = .confirming(key == .character("s") ? .stop : .resume, session: row.name)
            case .character(let character):
                guard let key = TopSortKey(rawValue: character) else { break }
                reversed = key == sort ? !reversed : false
                sort = key
                reorder()
            case .backspace: break
            }
            return .none
        }
    }

    // MARK: Order and selection

    /// The applied filter as a test on names: a glob when it has pattern characters (and parses),
    /// else a substring.
    public var filterTest: (String) -> Bool {
        guard let filter else { return { _ in true } }
        if GlobPattern.isPattern(filter), let glob = try? GlobPattern(filter) { return glob.matches }
        return { $0.contains(filter) }
    }

    /// Recomputes `visible` and keeps the same session selected (or the same position, when it went).
    public mutating func reorder() {
        let passes = filterTest
        let names = rows.values.filter { passes($0.name) }
        let usage = self.usage
        func byName(_ a: TopRow, _ b: TopRow) -> Bool { a.name < b.name }
        let ordered: [TopRow]
        switch sort {
        case .name: ordered = names.sorted(by: byName)
        case .memory:
            ordered = names.sorted { a, b in
                let (x, y) = (usage[a.name]?.memoryBytes ?? -1, usage[b.name]?.memoryBytes ?? -1)
                return x != y ? x > y : byName(a, b)
            }
        case .cpu:
            ordered = names.sorted { a, b in
                let (x, y) = (usage[a.name]?.cpuPercent ?? -1, usage[b.name]?.cpuPercent ?? -1)
                return x != y ? x > y : byName(a, b)
            }
        case .verdict:
            ordered = names.sorted { a, b in a.verdict != b.verdict ? a.verdict > b.verdict : byName(a, b) }
        }
        visible = reversed ? ordered.reversed() : ordered
        if let selectedName, let index = visible.firstIndex(where: { $0.name == selectedName }) {
            selectedIndex = index
        }
        select(selectedIndex)
    }

    private mutating func select(_ index: Int) {
        selectedIndex = max(0, min(index, visible.count - 1))
        selectedName = selected?.name
        keepSelectionOnScreen()
    }

    private mutating func keepSelectionOnScreen() {
        if selectedIndex < scrollOffset { scrollOffset = selectedIndex }
        if selectedIndex >= scrollOffset + bodyHeight { scrollOffset = selectedIndex - bodyHeight + 1 }
        scrollOffset = max(0, min(scrollOffset, visible.count - bodyHeight))
    }
}
