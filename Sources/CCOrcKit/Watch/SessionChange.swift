import FoundationEssentials

/// One thing a watcher reports: the first snapshot, then each session that appears, goes or
/// changes, and each resynchronisation after a lost connection.
public enum SessionChange: Sendable {
    /// Every selected session as the watch starts, by name.
    case snapshot([WatchedSession])
    /// A session was registered (or now matches the filter).
    case added(WatchedSession)
    /// A session's row is gone.
    case removed(SessionName)
    /// A session changed: its state before and after, and the members of its JSON that differ.
    case changed(before: WatchedSession, after: WatchedSession, fields: [String])
    /// The watcher lost its connection to `source` (`engine` or `tmux`) and read everything afresh;
    /// changes found that way follow as their own lines.
    case resync(source: String, reason: String)

    /// The NDJSON line's object: `{"type":"snapshot","sessions":[...]}`,
    /// `{"type":"session-added","session":{...}}`, `{"type":"session-removed","name":NAME}`,
    /// `{"type":"session-changed","session":{...},"changed":[MEMBER...]}` or
    /// `{"type":"resync","source":"engine"|"tmux","reason":TEXT}`, each with `"time"` (RFC 3339).
    public func jsonValue(at time: Date) -> JSONValue {
        var object: [String: JSONValue]
        switch self {
        case .snapshot(let sessions):
            object = ["type": "snapshot", "sessions": .array(sessions.map(\.jsonValue))]
        case .added(let session):
            object = ["type": "session-added", "session": session.jsonValue]
        case .removed(let name):
            object = ["type": "session-removed", "name": .string(name.rawValue)]
        case .changed(_, let after, let fields):
            object = ["type": "session-changed", "session": after.jsonValue, "changed": JSONValue(strings: fields)]
        case .resync(let source, let reason):
            object = ["type": "resync", "source": .string(source), "reason": .string(reason)]
        }
        object["time"] = .string(RFC3339.format(time))
        return .object(object)
    }

    /// One readable line (a line per session for a snapshot), without a time stamp.
    public var text: String {
        switch self {
        case .snapshot(let sessions):
            let header = "watching \(sessions.count) session\(sessions.count == 1 ? "" : "s")"
            return ([header] + sessions.map { "  \($0.status.record.name): " + Self.summary($0) }).joined(
                separator: "\n")
        case .added(let session):
            return "\(session.status.record.name) added: " + Self.summary(session)
        case .removed(let name):
            return "\(name) removed"
        case .changed(let before, let after, _):
            return "\(after.status.record.name) changed: " + Self.differences(before, after).joined(separator: ", ")
        case .resync(let source, let reason):
            return "resynchronised with \(source) (\(reason))"
        }
    }

    /// `NAME`'s state in a few words: condition, running/total, tmux windows, verdict.
    private static func summary(_ session: WatchedSession) -> String {
        let status = session.status
        var text = "\(status.condition.words), \(status.runningCount)/\(status.agents.count) running, "
        text += status.tmux.map { "tmux \($0.windows) window\($0.windows == 1 ? "" : "s")" } ?? "no tmux"
        if let attached = status.tmux?.attached, attached > 0 { text += " (\(attached) attached)" }
        text += ", \(session.health.verdict.rawValue)"
        if let issue = session.health.issues.first { text += ": \(issue.subject): \(issue.message)" }
        return text
    }

    /// What differs between two states of a session, as `WHAT before → after`.
    private static func differences(_ before: WatchedSession, _ after: WatchedSession) -> [String] {
        var parts: [String] = []
        func note(_ what: String, _ old: String, _ new: String) {
            if old != new { parts.append("\(what) \(old) → \(new)") }
        }
        note("condition", before.status.condition.words, after.status.condition.words)
        note(
            "running", "\(before.status.runningCount)/\(before.status.agents.count)",
            "\(after.status.runningCount)/\(after.status.agents.count)")
        for (old, new) in zip(before.status.agents, after.status.agents) {
            note(new.record.containerName, old.state, new.state)
        }
        func windows(_ tmux: TmuxSession?) -> String {
            tmux.map { "\($0.windows) window\($0.windows == 1 ? "" : "s")" } ?? "closed"
        }
        note("tmux", windows(before.status.tmux), windows(after.status.tmux))
        note("attached", String(before.status.tmux?.attached ?? 0), String(after.status.tmux?.attached ?? 0))
        note("verdict", before.health.verdict.rawValue, after.health.verdict.rawValue)
        if let issue = after.health.issues.first, before.health.issues.first != issue {
            parts.append("\(issue.subject): \(issue.message)")
        }
        if parts.isEmpty { parts.append("registry row updated") }
        return parts
    }
}

/// Tells which sessions appeared, went or changed between two views of them.
enum WatchDiff {
    /// The changes from `before` to `after`, by session name; `scope`, when given, is the set of
    /// names `after` was computed for (others are taken as unchanged).
    static func changes(
        from before: [String: WatchedSession], to after: [String: WatchedSession], scope: Set<String>? = nil
    ) -> [SessionChange] {
        var changes: [SessionChange] = []
        let names = Set(before.keys).union(after.keys).filter { scope?.contains($0) ?? true }
        for name in names.sorted() {
            switch (before[name], after[name]) {
            case (nil, let new?): changes.append(.added(new))
            case (let old?, nil): changes.append(.removed(old.status.record.name))
            case (let old?, let new?):
                let fields = changedMembers(old.jsonValue, new.jsonValue)
                if !fields.isEmpty { changes.append(.changed(before: old, after: new, fields: fields)) }
            case (nil, nil): continue
            }
        }
        return changes
    }

    /// The top-level members whose values differ, sorted.
    static func changedMembers(_ old: JSONValue, _ new: JSONValue) -> [String] {
        let oldObject = old.object ?? [:]
        let newObject = new.object ?? [:]
        return Set(oldObject.keys).union(newObject.keys).filter { oldObject[$0] != newObject[$0] }.sorted()
    }
}
