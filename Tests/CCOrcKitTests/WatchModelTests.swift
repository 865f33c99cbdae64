import Foundation
import Testing

@testable import CCOrcKit

/// The watcher's pure parts: event lines as the engine (20.10, API 1.41) sent them, the model they
/// update, and the change lines that follow.
struct WatchModelTests {
    /// A container's life as `GET /events` reported it, recorded.
    static let recordedLines = [
        #"{"status":"create","id":"ba53","from":"ccorc-busybox:latest","Type":"container","Action":"create","Actor":{"ID":"ba53","Attributes":{"ccorc.role":"lead","ccorc.session":"rec","image":"ccorc-busybox:latest","name":"rec-lead"}},"scope":"local","time":1796031959,"timeNano":1796031959084054473}"#,
        #"{"status":"start","id":"ba53","from":"ccorc-busybox:latest","Type":"container","Action":"start","Actor":{"ID":"ba53","Attributes":{"ccorc.role":"lead","ccorc.session":"rec","image":"ccorc-busybox:latest","name":"rec-lead"}},"scope":"local","time":1796031959,"timeNano":1796031959348063875}"#,
        #"{"status":"kill","id":"ba53","from":"ccorc-busybox:latest","Type":"container","Action":"kill","Actor":{"ID":"ba53","Attributes":{"ccorc.role":"lead","ccorc.session":"rec","image":"ccorc-busybox:latest","name":"rec-lead","signal":"9"}},"scope":"local","time":1796031959,"timeNano":1796031959683591545}"#,
        #"{"status":"die","id":"ba53","from":"ccorc-busybox:latest","Type":"container","Action":"die","Actor":{"ID":"ba53","Attributes":{"ccorc.role":"lead","ccorc.session":"rec","exitCode":"137","image":"ccorc-busybox:latest","name":"rec-lead"}},"scope":"local","time":1796031959,"timeNano":1796031959708453517}"#,
        #"{"status":"destroy","id":"ba53","from":"ccorc-busybox:latest","Type":"container","Action":"destroy","Actor":{"ID":"ba53","Attributes":{"ccorc.role":"lead","ccorc.session":"rec","image":"ccorc-busybox:latest","name":"rec-lead"}},"scope":"local","time":1796031960,"timeNano":1796031960192055067}"#,
    ]
    static let volumeLines = [
        #"{"Type":"volume","Action":"create","Actor":{"ID":"rec-lead-state","Attributes":{"driver":"local"}},"scope":"local","time":1796031675,"timeNano":1796031675408275593}"#,
        #"{"Type":"volume","Action":"destroy","Actor":{"ID":"rec-lead-state","Attributes":{"driver":"local"}},"scope":"local","time":1796031675,"timeNano":1796031675419770853}"#,
    ]

    static func event(_ line: String) throws -> EngineEvent {
        try EngineEvent(json: try JSONValue.parse(Array(line.utf8)))
    }

    /// A model holding one registered session `rec` with one agent, `rec-lead`, recorded with ID ba53.
    static func model(tmux: Bool = true) -> SessionWatchModel {
        var record = Fixture.record("rec", roles: ["lead"], agentCommand: "sh")
        record.agents[0].containerID = "ba53"
        var model = SessionWatchModel()
        model.records = [record]
        model.volumes = ["rec-lead-state"]
        if tmux { model.tmuxSessions = [Fixture.tmux("rec", windows: 1)] }
        return model
    }

    @Test func aRecordedEventParses() throws {
        let die = try Self.event(Self.recordedLines[3])
        #expect(die.type == "container" && die.action == "die" && die.actorID == "ba53")
        #expect(die.attributes["exitCode"] == "137" && die.attributes["ccorc.session"] == "rec")
        #expect(die.attributes["name"] == "rec-lead")
        #expect(die.timeNanoseconds == 1_796_031_959_708_453_517)
        let volume = try Self.event(Self.volumeLines[0])
        #expect(volume.type == "volume" && volume.action == "create" && volume.actorID == "rec-lead-state")
        // Without timeNano, whole seconds.
        let old = try Self.event(#"{"Type":"container","Action":"start","Actor":{"ID":"x"},"time":12}"#)
        #expect(old.timeNanoseconds == 12_000_000_000 && old.attributes.isEmpty)
    }

    @Test func aLineThatIsNotAnEventIsAMalformedReply() throws {
        for line in [#"{"Action":"start","Actor":{"ID":"x"}}"#, #"{"Type":"container","Actor":{"ID":"x"}}"#, "{}"] {
            let error = #expect(throws: EngineError.self) { try Self.event(line) }
            #expect(error?.code == .malformedReply)
        }
    }

    @Test func linesAreSplitAcrossChunks() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Array("{\"a\":".utf8)).isEmpty)
        #expect(splitter.feed(Array("1}\n{\"b\"".utf8)) == [Array("{\"a\":1}".utf8)])
        #expect(splitter.feed(Array(":2}\n\n{\"c\":3}\n".utf8)) == [Array("{\"b\":2}".utf8), Array("{\"c\":3}".utf8)])
        #expect(splitter.feed([]).isEmpty)
    }

    @Test func sinceIsSecondsWithNineDigitsOfFraction() {
        #expect(EngineClient.eventTime(1_796_031_959_084_054_473) == "1796031959.084054473")
        #expect(EngineClient.eventTime(5) == "0.000000005")
        #expect(EngineClient.eventTime(2_000_000_000) == "2.000000000")
    }

    @Test func aContainersLifeMovesTheSessionThroughItsStates() throws {
        var model = Self.model()
        let shell = "ccdk"
        func verdict() -> (String, HealthVerdict, [String]) {
            let session = model.sessions(filter: WatchFilter(), shellCommand: shell)["rec"]!
            return (session.status.agents[0].state, session.health.verdict, session.health.issues.map(\.message))
        }
        #expect(verdict().0 == "missing" && verdict().1 == .broken)
        let owners = try Self.recordedLines.map { line -> String? in
            let owner = model.apply(try Self.event(line))
            if line.contains("\"create\"") {
                #expect(model.containers["ba53"]?.state == .created)
                #expect(model.containers["ba53"]?.labels == ["ccorc.role": "lead", "ccorc.session": "rec"])
                #expect(model.containers["ba53"]?.name == "rec-lead")
            } else if line.contains("\"start\"") {
                #expect(verdict().0 == "running")
            } else if line.contains("\"die\"") {
                #expect(verdict().0 == "stopped" && verdict().1 == .broken)
                #expect(verdict().2.contains("container exited with status 137 (killed: out of memory or SIGKILL)"))
            }
            return owner
        }
        // kill is not followed: it changes nothing (the die after it does).
        #expect(owners == ["rec", "rec", nil, "rec", "rec"])
        #expect(model.containers.isEmpty && verdict().0 == "missing")
    }

    @Test func aCreateReplayedAfterTheListLeavesTheListedStateAlone() throws {
        var model = Self.model()
        model.containers["ba53"] = Fixture.container("rec-lead", id: "ba53", state: "running", session: "rec")
        #expect(model.apply(try Self.event(Self.recordedLines[0])) == "rec")
        #expect(model.containers["ba53"]?.state == .running)
    }

    @Test func volumeEventsKeepTheSetOfVolumes() throws {
        var model = Self.model()
        #expect(model.apply(try Self.event(Self.volumeLines[1])) == "rec")
        #expect(!model.volumes.contains("rec-lead-state"))
        #expect(model.apply(try Self.event(Self.volumeLines[1])) == nil)
        #expect(model.apply(try Self.event(Self.volumeLines[0])) == "rec")
        #expect(model.volumes.contains("rec-lead-state"))
        // Someone else's volume is kept (a row may name it later) but concerns no session.
        let other = EngineEvent(
            type: "volume", action: "create", actorID: "db-data", attributes: [:], timeNanoseconds: 1)
        #expect(model.apply(other) == nil && model.volumes.contains("db-data"))
    }

    @Test func containersOfNoSessionAreIgnoredButALegacyRowsAreFollowed() throws {
        var model = Self.model()
        let foreign = EngineEvent(
            type: "container", action: "start", actorID: "f1", attributes: ["name": "web"], timeNanoseconds: 1)
        #expect(model.apply(foreign) == nil && model.containers.isEmpty)
        model.records.append(Fixture.record("old", roles: ["lead"], legacy: true))
        let legacy = EngineEvent(
            type: "container", action: "start", actorID: "id-old-lead", attributes: ["name": "old-lead"],
            timeNanoseconds: 2)
        #expect(model.apply(legacy) == "")
        #expect(model.containers["id-old-lead"]?.state == .running)
        #expect(model.sessions(filter: WatchFilter(), shellCommand: "ccdk")["old"]?.status.agents[0].state == "running")
        let image = EngineEvent(type: "image", action: "pull", actorID: "busybox", attributes: [:], timeNanoseconds: 3)
        #expect(model.apply(image) == nil)
    }

    @Test func aTmuxReadingConcernsOnlyTheSessionsItChanges() {
        var model = Self.model(tmux: false)
        model.records.append(Fixture.record("two", roles: ["lead"]))
        let rec = Fixture.tmux("rec", windows: 1)
        var two = Fixture.tmux("two", windows: 1)
        let other = Fixture.tmux("not-ours", windows: 4)
        #expect(model.applyTmux(sessions: [rec, two, other], panes: [:], commandLines: [:]) == ["rec", "two"])
        // Only activity: nothing a summary or verdict reads.
        var later = rec
        later.activity = later.activity.addingTimeInterval(60)
        #expect(model.applyTmux(sessions: [later, two, other], panes: [:], commandLines: [:]).isEmpty)
        two.windows = 2
        var busier = other
        busier.windows = 5
        #expect(model.applyTmux(sessions: [later, two, busier], panes: [:], commandLines: [:]) == ["two"])
        #expect(model.applyTmux(sessions: [two, busier], panes: [:], commandLines: [:]) == ["rec"])
        #expect(model.tmuxSessions.map(\.name) == ["two", "not-ours"])
    }

    @Test func aTmuxReadingReadsAgainOnlyThePanesItCannotTell() throws {
        func pane(_ id: String, window: String) throws -> TmuxPane {
            try #require(try TmuxFormats.panes(["\(id)\t\(window)\t0\t0\t100\t0\t\t\t1\tlead\tccdk"]).first)
        }
        let a = Fixture.tmux("a", windows: 2)
        let b = Fixture.tmux("b", windows: 1)
        let previous = SessionWatcher.TmuxReading(
            sessions: [a, b],
            panes: [
                "a": [try pane("%1", window: "@1"), try pane("%2", window: "@2")],
                "b": [try pane("%3", window: "@3")],
            ],
            commandLines: [:], reconnectReason: nil)
        func stale(_ sessions: [TmuxSession], closed: Set<String> = []) -> [String] {
            SessionWatcher.staleSessions(sessions, previous: previous, closedWindows: closed).map(\.name)
        }
        #expect(stale([a, b]).isEmpty)
        var fewer = a
        fewer.windows = 1
        #expect(stale([fewer, b]) == ["a"])
        // A window closed and another added: the count is as it was, the closed window tells.
        #expect(stale([a, b], closed: ["@2"]) == ["a"])
        #expect(stale([a, b], closed: ["@9"]).isEmpty)
        var renewed = b
        renewed.id = "$99"
        #expect(stale([a, renewed, Fixture.tmux("c")]) == ["b", "c"])
    }

    @Test func aRegistryReadingConcernsOnlyTheRowsItChanges() {
        let a = Fixture.record("a")
        let b = Fixture.record("b")
        var resumed = b
        resumed.lastResumedAt = Fixture.now
        let c = Fixture.record("c")
        #expect(SessionWatchModel.changedRows(from: [a, b], to: [a, b]).isEmpty)
        #expect(SessionWatchModel.changedRows(from: [a, b], to: [a, resumed, c]) == ["b", "c"])
        #expect(SessionWatchModel.changedRows(from: [a, b], to: [b]) == ["a"])
    }

    @Test func eventFiltersFollowOnlyCcorcContainersUnlessALegacyRowIsRegistered() {
        let filters = SessionWatcher.containerEventFilters([Fixture.record("a")])
        #expect(filters["label"] == ["ccorc.session"] && filters["type"] == ["container"])
        #expect(filters["event"]?.contains("die") == true && filters["event"]?.contains("exec_start") == false)
        let legacy = SessionWatcher.containerEventFilters([Fixture.record("a"), Fixture.record("b", legacy: true)])
        #expect(legacy["label"] == nil && legacy["type"] == ["container"])
        #expect(SessionWatcher.volumeEventFilters == ["type": ["volume"], "event": ["create", "destroy"]])
    }

    @Test func onlyTerminalClientsCountAsAttached() {
        let lines = ["1\t$1", "0\t$1", "0\t$1", "0\t$2", "1\t$2"]
        #expect(TmuxFormats.terminalClients(lines) == ["$1": 2, "$2": 1])
        #expect(TmuxFormats.terminalClients([]) == [:])
    }

    @Test func aFilterSelectsByNameOrPattern() throws {
        let a = Fixture.name("feature-a")
        let b = Fixture.name("bugfix-b")
        #expect(WatchFilter().selects(a) && WatchFilter().selects(b))
        #expect(WatchFilter(names: [a]).selects(a) && !WatchFilter(names: [a]).selects(b))
        let pattern = WatchFilter(pattern: try GlobPattern("feature-*"))
        #expect(pattern.selects(a) && !pattern.selects(b))
    }

    @Test func theDiffReportsAddedRemovedAndChangedSessions() throws {
        var model = Self.model()
        model.records.append(Fixture.record("gone", roles: ["lead"]))
        let before = model.sessions(filter: WatchFilter(), shellCommand: "ccdk")
        _ = model.apply(try Self.event(Self.recordedLines[0]))
        _ = model.apply(try Self.event(Self.recordedLines[1]))
        model.records.removeAll { $0.name.rawValue == "gone" }
        model.records.append(Fixture.record("new", roles: ["lead"]))
        let after = model.sessions(filter: WatchFilter(), shellCommand: "ccdk")
        let changes = WatchDiff.changes(from: before, to: after)
        #expect(changes.count == 3)
        guard case .removed(let gone) = changes[0], case .added(let new) = changes[1],
            case .changed(let old, let now, let fields) = changes[2]
        else {
            Issue.record("unexpected changes: \(changes)")
            return
        }
        #expect(gone.rawValue == "gone" && new.status.record.name.rawValue == "new")
        #expect(old.status.runningCount == 0 && now.status.runningCount == 1)
        // Still broken: the fixture's tmux session has no window for the agent.
        #expect(fields == ["agents", "condition", "issues", "running"])
        #expect(now.health.verdict == .broken && now.health.issues.contains { $0.subject == "window lead" })
        // Unchanged: nothing; a scope leaves out every other name.
        #expect(WatchDiff.changes(from: after, to: after).isEmpty)
        #expect(WatchDiff.changes(from: before, to: after, scope: ["rec"]).count == 1)
    }

    @Test func eachChangeHasItsDocumentedLine() throws {
        var model = Self.model()
        let before = model.sessions(filter: WatchFilter(), shellCommand: "ccdk")["rec"]!
        _ = model.apply(try Self.event(Self.recordedLines[0]))
        _ = model.apply(try Self.event(Self.recordedLines[1]))
        let after = model.sessions(filter: WatchFilter(), shellCommand: "ccdk")["rec"]!
        let time = Date(timeIntervalSince1970: 1_796_031_959)
        let changed = SessionChange.changed(before: before, after: after, fields: ["running"]).jsonValue(at: time)
        #expect(changed["type"]?.string == "session-changed" && changed["changed"] == JSONValue(strings: ["running"]))
        #expect(changed["session"]?["name"]?.string == "rec" && changed["session"]?["running"]?.int == 1)
        #expect(changed["session"]?["verdict"]?.string == after.health.verdict.rawValue)
        #expect(changed["time"]?.string == "2026-11-30T09:45:59Z")
        let snapshot = SessionChange.snapshot([after]).jsonValue(at: time)
        #expect(snapshot["type"]?.string == "snapshot" && snapshot["sessions"]?.array?.count == 1)
        #expect(SessionChange.removed(Fixture.name("rec")).jsonValue(at: time)["name"]?.string == "rec")
        let resync = SessionChange.resync(source: "engine", reason: "events connection lost").jsonValue(at: time)
        #expect(resync["type"]?.string == "resync" && resync["source"]?.string == "engine")
        #expect(SessionChange.added(after).jsonValue(at: time)["type"]?.string == "session-added")
        let text = SessionChange.changed(before: before, after: after, fields: []).text
        #expect(text.hasPrefix("rec changed: "))
        #expect(text.contains("running 0/1 → 1/1") && text.contains("rec-lead missing → running"))
        #expect(SessionChange.snapshot([after]).text == "watching 1 session\n  rec: " + Self.summaryText(after))
    }

    private static func summaryText(_ session: WatchedSession) -> String {
        let text = SessionChange.added(session).text
        return String(text.dropFirst("rec added: ".count))
    }
}
