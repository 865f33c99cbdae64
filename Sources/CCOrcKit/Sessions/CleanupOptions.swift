import FoundationEssentials

/// Which sessions, and which strays, `cleanup` acts on.
///
/// `names` and `patterns` set the scope (all sessions when both are empty); `stoppedOnly` and
/// `olderThan` narrow it. `fixBroken` turns the selection into the sessions with missing
/// containers, repaired (or with `dropBroken`, removed). `orphans` adds what ccorc labelled but no
/// session claims (within the scope, by the session label, when names or patterns are given).
public struct CleanupSelection: Sendable {
    /// Sessions named outright.
    public var names: [SessionName] = []
    /// Shell-style patterns on session names.
    public var patterns: [GlobPattern] = []
    /// Only sessions none of whose containers is running.
    public var stoppedOnly = false
    /// Only sessions neither launched nor resumed for at least this many seconds.
    public var olderThan: TimeInterval?
    /// Sessions with missing containers, to repair.
    public var fixBroken = false
    /// With `fixBroken`: remove the broken sessions instead of repairing them.
    public var dropBroken = false
    /// Containers and volumes labelled by ccorc that no registered session claims.
    public var orphans = false
    /// Every session in scope, for a selection the user narrows down afterwards (`--interactive`).
    public var allSessions = false
    /// Also remove the unlabelled containers of sessions imported from the legacy registry
    /// (which are otherwise skipped: ccorc did not make them). Selects nothing by itself.
    public var includeLegacy = false

    /// An empty selection.
    public init() {}

    /// Whether nothing at all is selected.
    public var isEmpty: Bool {
        names.isEmpty && patterns.isEmpty && !stoppedOnly && olderThan == nil && !fixBroken && !orphans && !allSessions
    }

    /// Parses `90m`, `36h`, `7d`, `2w` or plain seconds into seconds.
    public static func parseDuration(_ text: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        let trimmed = text.trimmingWhitespace().lowercased()
        let unit = trimmed.last.flatMap { units[$0] }
        let number = unit == nil ? trimmed : String(trimmed.dropLast())
        guard let value = Double(number), value >= 0, value.isFinite else {
            throw SessionError(
                .invalidArgument, "invalid duration \"\(text)\": expected a number and a unit, e.g. 90m, 36h, 7d")
        }
        return value * (unit ?? 1)
    }
}
