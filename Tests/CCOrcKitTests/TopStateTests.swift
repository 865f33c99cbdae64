import Testing

@testable import CCOrcKit

/// `ccorc top`'s pure parts: key bytes to keys, keys to state and effects, state to the exact
/// lines drawn, lines to escapes, and cgroup readings to memory and CPU.
@Suite struct TopStateTests {
    static func row(
        _ name: String, condition: SessionCondition = .running, running: Int = 2, total: Int = 2,
        windows: Int? = 2, attached: Int = 0, verdict: HealthVerdict = .healthy
    ) -> TopRow {
        TopRow(
            name: name, condition: condition, running: running, total: total, tmuxWindows: windows,
            attached: attached, verdict: verdict, runningContainerIDs: (0..<running).map { "id-\(name)-\($0)" })
    }

    static func state(_ rows: [TopRow], height: Int = 24, width: Int = 80) -> TopState {
        var state = TopState(rows: height, columns: width)
        state.setRows(rows)
        return state
    }

    static func press(_ state: inout TopState, _ text: String) -> [TopEffect] {
        TopKey.decode(Array(text.utf8)).map { state.handle($0) }
    }

    static func reading(cpu: UInt64, memory: Int64) -> ResourceUsage {
        ResourceUsage(
            memoryUsage: memory, memoryLimit: nil, cpuUsageNanoseconds: cpu, cpuQuotaNanoCPUs: nil, pids: [],
            source: .cgroupV2)
    }

    // MARK: Keys

    @Test func decodesTheKeysOfXtermAndTmux() {
        let bytes = Array(
            "\u{1B}[A\u{1B}[B\u{1B}OA\u{1B}[5~\u{1B}[6~\u{1B}[H\u{1B}[1~\u{1B}OF\u{1B}[4~\r\u{7F}\u{03}q/é".utf8)
        #expect(
            TopKey.decode(bytes) == [
                .up, .down, .up, .pageUp, .pageDown, .home, .home, .end, .end, .enter, .backspace, .interrupt,
                .character("q"), .character("/"), .character("é"),
            ])
    }

    @Test func aLoneEscapeIsTheEscKeyAndUnknownSequencesAreSkipped() {
        #expect(TopKey.decode([0x1B]) == [.escape])
        #expect(TopKey.decode(Array("\u{1B}[1;5Cx\u{1B}[15~\u{1B}".utf8)) == [.character("x"), .escape])
        #expect(TopKey.decode(Array("\u{1B}\u{1B}[B".utf8)) == [.escape, .down])
    }

    // MARK: Scrolling through many sessions

    @Test func scrollsAThousandSessionsKeepingTheSelectionOnScreen() {
        let names = (0..<1000).map { "s\(String(1000 + $0).dropFirst())" }
        var state = Self.state(names.shuffled().map { Self.row($0) })
        #expect(state.bodyHeight == 21)
        #expect(state.visible.first?.name == "s000")
        for _ in 0..<25 { _ = state.handle(.down) }
        #expect(state.selectedIndex == 25)
        #expect(state.scrollOffset == 5)
        #expect(state.onScreen.first?.name == "s005")
        _ = state.handle(.pageDown)
        #expect(state.selectedIndex == 46)
        #expect(state.scrollOffset == 26)
        _ = state.handle(.end)
        #expect(state.selected?.name == "s999")
        #expect(state.scrollOffset == 979)
        #expect(state.onScreen.count == 21)
        _ = state.handle(.pageUp)
        #expect(state.selectedIndex == 978)
        #expect(state.scrollOffset == 978)
        _ = state.handle(.home)
        #expect(state.selectedIndex == 0)
        #expect(state.scrollOffset == 0)
        _ = state.handle(.up)
        #expect(state.selectedIndex == 0)
        let lines = TopView.lines(state)
        #expect(lines.count == 24)
        #expect(lines[2].text.hasPrefix("> s000 "))
        #expect(lines[22].text.hasPrefix("  s020 "))
    }

    @Test func aResizeKeepsTheSelectionVisible() {
        var state = Self.state((0..<100).map { Self.row("n\(String(100 + $0).dropFirst())") })
        for _ in 0..<50 { _ = state.handle(.down) }
        state.resize(rows: 10, columns: 80)
        #expect(state.bodyHeight == 7)
        #expect(state.scrollOffset == 44)
        #expect(state.onScreen.last?.name == "n50")
        #expect(TopView.lines(state).count == 10)
    }

    // MARK: The lines drawn

    @Test func drawsTheTitleHeaderRowsAndFooter() {
        var state = Self.state(
            [
                Self.row("beta", condition: .stopped, running: 0, windows: nil, verdict: .stopped),
                Self.row("alpha", attached: 1),
            ], height: 6, width: 80)
        state.setUsage(["alpha": TopUsage(memoryBytes: 150 * 1024 * 1024, cpuPercent: 12.345)])
        _ = state.handle(.down)
        let lines = TopView.lines(state)
        #expect(
            lines.map(\.text) == [
                "ccorc top: 2 sessions, sort name" + String(repeating: " ", count: 48),
                "  NAME  CONDITION      RUNNING TMUX ATTACHED     MEM   CPU% VERDICT"
                    + String(repeating: " ", count: 13),
                "  alpha running            2/2    2        1    150M   12.3 healthy"
                    + String(repeating: " ", count: 13),
                "> beta  stopped            0/2    ✗        0       -      - stopped"
                    + String(repeating: " ", count: 13),
                String(repeating: " ", count: 80),
                String(TopView.keysHelp.prefix(79)),
            ])
        #expect(lines.map(\.style) == [.title, .header, .row, .selected, .row, .footer])
    }

    @Test func longNamesAreCutSoTheOtherColumnsFitButKeepTwelveCharacters() {
        let name = String(repeating: "x", count: 40)
        let wide = TopView.lines(Self.state([Self.row(name)], height: 4, width: 80))[2].text
        #expect(wide.count == 80)
        #expect(wide.hasPrefix("> " + String(repeating: "x", count: 16) + "… running"))
        #expect(wide.hasSuffix(" - healthy "))
        let narrow = TopView.lines(Self.state([Self.row(name)], height: 4, width: 60))[2].text
        #expect(
            narrow == "> " + String(repeating: "x", count: 11)
                + "… running            2/2    2        0       - ")
    }

    @Test func writesOnlyTheLinesThatChanged() {
        let before = [TopLine("a", .title), TopLine("b", .row), TopLine("c", .footer)]
        let after = [TopLine("a", .title), TopLine("B", .selected), TopLine("c", .footer)]
        #expect(TopView.frame(from: before, to: after) == "\u{1B}[2;1H\u{1B}[7mB\u{1B}[0m\u{1B}[K")
        #expect(TopView.frame(from: after, to: after) == "")
        #expect(
            TopView.frame(from: nil, to: [TopLine("t", .title)])
                == "\u{1B}[H\u{1B}[2J\u{1B}[1;1H\u{1B}[1mt\u{1B}[0m\u{1B}[K")
    }

    @Test func theScreenIsEnteredAndLeftWithTheAlternateScreenAndCursorEscapes() {
        #expect(TopView.enterScreen == "\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
        #expect(TopView.leaveScreen == "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
    }

    @Test func formatsMemoryInBinaryUnits() {
        #expect(TopView.bytes(512) == "512B")
        #expect(TopView.bytes(3482) == "3.4K")
        #expect(TopView.bytes(120 * 1024 * 1024) == "120M")
        #expect(TopView.bytes(1536 * 1024 * 1024) == "1.5G")
    }

    // MARK: Filter

    @Test func aFilterIsTypedThenAppliedWithEnterAndClearedWithEsc() {
        var state = Self.state(["tp-a", "tp-b", "other", "xtp"].map { Self.row($0) })
        #expect(Self.press(&state, "/tp") == [.none, .none, .none])
        #expect(state.mode == .filtering(draft: "tp"))
        #expect(state.visible.count == 4)
        #expect(TopView.footer(state).hasPrefix("filter: tp_"))
        _ = state.handle(.enter)
        #expect(state.filter == "tp")
        #expect(state.visible.map(\.name) == ["tp-a", "tp-b", "xtp"])
        #expect(TopView.title(state) == "ccorc top: 4 sessions, 3 shown, filter \"tp\", sort name")
        _ = Self.press(&state, "/\u{7F}\u{7F}tp-*\r")
        #expect(state.visible.map(\.name) == ["tp-a", "tp-b"])
        _ = Self.press(&state, "\u{1B}/zzz\r")
        #expect(TopView.lines(state)[2].text.hasPrefix("  no session matches \"zzz\""))
        _ = Self.press(&state, "/\u{1B}")
        #expect(state.filter == nil)
        #expect(state.mode == .browsing)
        #expect(state.visible.count == 4)
    }

    // MARK: Sort

    @Test func sortsByMemoryCpuAndVerdictKeepingTheSelection() {
        var state = Self.state([
            Self.row("a", verdict: .healthy), Self.row("b", verdict: .broken), Self.row("c", verdict: .degraded),
        ])
        state.setUsage([
            "a": TopUsage(memoryBytes: 10, cpuPercent: 50), "b": TopUsage(memoryBytes: 30, cpuPercent: 5),
            "c": TopUsage(memoryBytes: 20, cpuPercent: nil),
        ])
        _ = state.handle(.down)
        #expect(state.selected?.name == "b")
        _ = Self.press(&state, "m")
        #expect(state.visible.map(\.name) == ["b", "c", "a"])
        #expect(state.selected?.name == "b")
        _ = Self.press(&state, "c")
        #expect(state.visible.map(\.name) == ["a", "b", "c"])
        _ = Self.press(&state, "v")
        #expect(state.visible.map(\.name) == ["b", "c", "a"])
        _ = Self.press(&state, "v")
        #expect(state.reversed)
        #expect(state.visible.map(\.name) == ["a", "c", "b"])
        #expect(TopView.title(state).hasSuffix("sort verdict reversed"))
        _ = Self.press(&state, "n")
        #expect(state.visible.map(\.name) == ["a", "b", "c"])
        #expect(state.selected?.name == "b")
    }

    @Test func aSessionThatGoesMovesTheSelectionToItsNeighbour() {
        var state = Self.state(["a", "b", "c"].map { Self.row($0) })
        _ = Self.press(&state, "\u{1B}[F")
        #expect(state.selected?.name == "c")
        state.setRows(["a", "b"].map { Self.row($0) })
        #expect(state.selected?.name == "b")
        state.setRows([])
        #expect(state.selected == nil)
        #expect(state.handle(.enter) == .none)
        #expect(TopView.lines(state)[2].text.hasPrefix("  no sessions"))
    }

    // MARK: Attach, stop, resume, quit

    @Test func enterAttachesToASessionWithTmuxOnly() {
        var state = Self.state([Self.row("a"), Self.row("b", windows: nil)])
        #expect(state.handle(.enter) == .attach(session: "a", tmuxSession: "a"))
        _ = state.handle(.down)
        #expect(state.handle(.enter) == .none)
        #expect(TopView.footer(state) == "b has no tmux session (r resumes it)")
        _ = state.handle(.up)
        #expect(TopView.footer(state) == TopView.keysHelp)
    }

    @Test func stopAndResumeAskFirst() {
        var state = Self.state([Self.row("a"), Self.row("b")])
        _ = state.handle(.down)
        #expect(Self.press(&state, "s") == [.none])
        #expect(TopView.footer(state) == "stop b? (y/n)")
        #expect(Self.press(&state, "y") == [.run(.stop, session: "b")])
        #expect(state.mode == .browsing)
        #expect(Self.press(&state, "rn") == [.none, .none])
        #expect(TopView.footer(state) == "resume cancelled")
        #expect(Self.press(&state, "rY") == [.none, .run(.resume, session: "b")])
    }

    @Test func qAndCtrlCQuitButQIsTextInTheFilter() {
        var state = Self.state([Self.row("a")])
        #expect(Self.press(&state, "q") == [.quit])
        #expect(Self.press(&state, "/q") == [.none, .none])
        #expect(state.mode == .filtering(draft: "q"))
        #expect(Self.press(&state, "\u{03}") == [.quit])
    }

    // MARK: The watch stream

    /// Sessions as the watch model judges them: `a` running with tmux attached once, `b` stopped.
    static func watched() -> [String: WatchedSession] {
        var model = SessionWatchModel()
        let a = Fixture.record("a")
        let b = Fixture.record("b")
        model.records = [a, b]
        for container in Fixture.containers(of: a) + Fixture.containers(of: b, state: "exited") {
            model.containers[container.id] = container
        }
        model.volumes = Set((a.agents + b.agents).map(\.stateVolume))
        model.tmuxSessions = [Fixture.tmux("a", windows: 2, attached: 1)]
        return model.sessions(filter: WatchFilter(), shellCommand: "ccdk")
    }

    @Test func rowsComeFromWatchedSessions() throws {
        let sessions = Self.watched()
        let a = TopRow(try #require(sessions["a"]))
        #expect(a.condition == .running)
        #expect((a.running, a.total, a.tmuxWindows, a.attached) == (2, 2, 2, 1))
        #expect(a.runningContainerIDs == ["id-a-lead", "id-a-dev"])
        let b = TopRow(try #require(sessions["b"]))
        #expect(b.condition == .stopped)
        #expect(b.verdict == .stopped)
        #expect(b.tmuxWindows == nil)
        #expect(b.runningContainerIDs.isEmpty)
    }

    @Test func followsSnapshotAddedChangedAndRemoved() throws {
        let sessions = Self.watched()
        let a = try #require(sessions["a"])
        let b = try #require(sessions["b"])
        var state = TopState(rows: 10, columns: 80)
        #expect(TopView.title(state) == "ccorc top: loading sessions")
        state.apply(.snapshot([a]))
        #expect(TopView.title(state) == "ccorc top: 1 session, sort name")
        // Applied without ordering (a burst), then ordered once.
        state.apply(.added(b), reordering: false)
        #expect(state.visible.map(\.name) == ["a"])
        state.reorder()
        #expect(state.visible.map(\.name) == ["a", "b"])
        var stoppedA = a
        stoppedA.status.tmux = nil
        state.apply(.changed(before: a, after: stoppedA, fields: ["tmux"]))
        #expect(state.visible.first?.tmuxWindows == nil)
        #expect(state.visible.first?.condition == .partlyRunning)
        state.apply(.resync(source: "engine", reason: "lost"))
        #expect(state.visible.count == 2)
        state.apply(.removed(Fixture.name("a")))
        #expect(state.visible.map(\.name) == ["b"])
        #expect(state.selected?.name == "b")
    }

    // MARK: Usage

    @Test func cpuIsTheDeltaOverTheTimeBetweenReadings() {
        var meter = TopUsageMeter()
        let first = meter.record(
            [
                "a": [("c1", Self.reading(cpu: 1_000_000_000, memory: 100)), ("c2", Self.reading(cpu: 0, memory: 50))],
                "b": [("c3", nil)],
            ], at: 5_000_000_000)
        #expect(first == ["a": TopUsage(memoryBytes: 150, cpuPercent: nil)])
        let second = meter.record(
            [
                "a": [
                    ("c1", Self.reading(cpu: 1_500_000_000, memory: 120)),
                    ("c2", Self.reading(cpu: 250_000_000, memory: 50)),
                ],
                "b": [("c3", Self.reading(cpu: 9, memory: 7))],
            ], at: 7_000_000_000)
        #expect(second["a"] == TopUsage(memoryBytes: 170, cpuPercent: 37.5))
        #expect(second["b"] == TopUsage(memoryBytes: 7, cpuPercent: nil))
        // c2 was not read (scrolled off): forgotten, so its next reading starts afresh.
        _ = meter.record(["a": [("c1", Self.reading(cpu: 1_500_000_000, memory: 1))]], at: 8_000_000_000)
        let fourth = meter.record(["a": [("c2", Self.reading(cpu: 9_000_000_000, memory: 1))]], at: 9_000_000_000)
        #expect(fourth["a"] == TopUsage(memoryBytes: 1, cpuPercent: nil))
    }
}
