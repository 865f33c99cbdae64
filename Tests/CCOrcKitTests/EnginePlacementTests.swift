import Foundation
import Testing

@testable import CCOrcKit

/// Placement by memory left, and reading sessions, cleanup plans and orphans across engines, from
/// recorded lists.
struct EnginePlacementTests {
    private let gib: Int64 = 1 << 30

    @Test func eachSessionGoesWhereTheMostMemoryIsLeftCountingTheOnesBefore() {
        let candidates = [
            EngineCapacity(name: "a", memoryBytes: 16 * gib, reservedBytes: 12 * gib, sessions: 4),
            EngineCapacity(name: "b", memoryBytes: 8 * gib, reservedBytes: 0, sessions: 0),
            EngineCapacity(name: "c", memoryBytes: 32 * gib, reservedBytes: 26 * gib, sessions: 9),
        ]
        // Free: a 4, b 8, c 6 GiB; each session needs 3 GiB.
        let placed = EnginePlacement.place(count: 4, needBytes: 3 * gib, on: candidates)
        // b (8) → b 5; c (6) → c 3; b (5) → b 2; a (4).
        #expect(placed == ["b", "c", "b", "a"])
    }

    @Test func tiesGoToFewerSessionsThenToTheEngineNamedFirst() {
        let candidates = [
            EngineCapacity(name: "a", memoryBytes: 8 * gib, reservedBytes: 0, sessions: 3),
            EngineCapacity(name: "b", memoryBytes: 8 * gib, reservedBytes: 0, sessions: 1),
            EngineCapacity(name: "c", memoryBytes: 8 * gib, reservedBytes: 0, sessions: 1),
        ]
        // Unlimited sessions need nothing, so the session count alone decides.
        #expect(EnginePlacement.place(count: 5, needBytes: 0, on: candidates) == ["b", "c", "b", "c", "a"])
    }

    @Test func reservationsAreLimitTimesAgentsByEngine() {
        var one = Fixture.record("one")
        one.memoryBytes = 2 * gib
        one.engine = "a"
        var two = Fixture.record("two", roles: ["x", "y", "z"])
        two.memoryBytes = gib
        two.engine = "a"
        let three = Fixture.record("three")  // no engine: the current one; no limit
        let held = EnginePlacement.reservations([one, two, three]) { $0.engine ?? "default" }
        #expect(held["a"]?.sessions == 2 && held["a"]?.reservedBytes == 7 * gib)
        #expect(held["default"]?.sessions == 1 && held["default"]?.reservedBytes == 0)
    }

    /// A session's containers come from its own engine only: a copy of the same name elsewhere
    /// (a move that failed half way) is not its.
    @Test func aSessionPairsOnlyWithContainersOfItsOwnEngine() {
        var record = Fixture.record("alpha")
        record.engine = "b"
        let onA = Fixture.containers(of: record, state: "exited").map { tagged($0, "a") }
        let onB = Fixture.containers(of: record, state: "running").map { tagged($0, "b") }
        let status = SessionReconciliation.statuses([record], containers: onA + onB, tmuxSessions: [])[0]
        #expect(status.agents.allSatisfy { $0.container?.engine == "b" && $0.state == "running" })
        let orphans = SessionReconciliation.orphanContainers(onA + onB, records: [record])
        #expect(orphans.map(\.name) == ["alpha-lead", "alpha-dev"] && orphans.allSatisfy { $0.engine == "a" })
    }

    @Test func aSessionOnAnUnreachableEngineIsUnknownNotBroken() {
        var record = Fixture.record("alpha")
        record.engine = "far"
        let status = SessionReconciliation.statuses(
            [record], containers: [], tmuxSessions: [], unreachable: ["far": "connection refused"])[0]
        #expect(status.condition == .engineUnreachable && status.condition.words == "engine unreachable")
        #expect(status.engineProblem == "engine far unreachable: connection refused")
    }

    /// Cleanup leaves a session on an engine that did not answer alone, even when asked to
    /// remove everything or fix what is broken.
    @Test func cleanupLeavesSessionsOfAnUnreachableEngineAlone() {
        var near = Fixture.record("near")
        near.engine = "a"
        var far = Fixture.record("far")
        far.engine = "b"
        let containers = Fixture.containers(of: near, state: "exited").map { tagged($0, "a") }
        for fixBroken in [false, true] {
            var selection = CleanupSelection()
            selection.allSessions = !fixBroken
            selection.fixBroken = fixBroken
            let plan = CleanupPlanner.plan(
                selection,
                from: CleanupInputs(
                    rows: RegistryRows(sessions: [near, far], damaged: []), containers: containers, volumes: [],
                    tmuxSessions: [], now: Fixture.now, unreachable: ["b": "timed out"]))
            #expect(plan.items.map(\.name.rawValue) == (fixBroken ? [] : ["near"]))
            #expect(plan.skipped.map(\.name.rawValue) == ["far"])
            #expect(plan.skipped.first?.reason == "engine b unreachable: timed out")
            #expect(plan.unreachable == ["b": "timed out"])
        }
    }

    /// Orphans are judged per engine: what a session left on another engine is an orphan there,
    /// and its containers on its own engine are not.
    @Test func orphansAreJudgedPerEngine() {
        var record = Fixture.record("alpha")
        record.engine = "a"
        let home = Fixture.containers(of: record).map { tagged($0, "a") }
        let left = Fixture.containers(of: record, state: "created").map { tagged($0, "b") }
        let volumes = [
            taggedVolume(Fixture.volume("alpha-lead-state", session: "alpha"), "a"),
            taggedVolume(Fixture.volume("alpha-lead-state", session: "alpha"), "b"),
        ]
        var selection = CleanupSelection()
        selection.orphans = true
        let plan = CleanupPlanner.plan(
            selection,
            from: CleanupInputs(
                rows: RegistryRows(sessions: [record], damaged: []), containers: home + left, volumes: volumes,
                tmuxSessions: [], now: Fixture.now))
        #expect(plan.orphanContainers.count == 2 && plan.orphanContainers.allSatisfy { $0.engine == "b" })
        #expect(plan.orphanVolumes.count == 1 && plan.orphanVolumes[0].engine == "b")
        #expect(plan.items.isEmpty)
    }

    /// A copy's helper container is left over when the process that made it on this host is
    /// gone, or when another host's is a day old; an unscoped orphan cleanup takes it, a scoped
    /// one does not.
    @Test func aKilledCopysHelpersAreOrphansOfAnUnscopedCleanup() {
        func helper(_ owner: String, age: TimeInterval) -> ContainerSummary {
            var container = Fixture.container("ccorc-copy-\(owner.hashValue)", state: "created", session: nil)
            container.labels = [EngineTransfer.helperLabel: owner]
            container.created = Fixture.now.addingTimeInterval(-age)
            return container
        }
        let live = ProcessIdentity(pid: 10, startTime: 5)
        let alive = { (identity: ProcessIdentity) in identity == live }
        let here = "box"
        #expect(!EngineTransfer.isAbandoned(helper("10:5@box", age: 5), now: Fixture.now, host: here, isAlive: alive))
        #expect(EngineTransfer.isAbandoned(helper("10:6@box", age: 5), now: Fixture.now, host: here, isAlive: alive))
        #expect(
            !EngineTransfer.isAbandoned(helper("11:6@far", age: 3600), now: Fixture.now, host: here, isAlive: alive))
        #expect(
            EngineTransfer.isAbandoned(helper("11:6@far", age: 90_000), now: Fixture.now, host: here, isAlive: alive))
        #expect(EngineTransfer.isAbandoned(helper("1", age: 90_000), now: Fixture.now, host: here, isAlive: alive))
        #expect(ProcessIdentity.fromLabel(live.labelValue)?.identity == live)

        let left = helper("10:6@box", age: 5)
        var orphans = CleanupSelection()
        orphans.orphans = true
        let inputs = CleanupInputs(
            rows: RegistryRows(sessions: [], damaged: []), containers: [], volumes: [], tmuxSessions: [],
            now: Fixture.now, abandonedHelpers: [left])
        #expect(CleanupPlanner.plan(orphans, from: inputs).orphanContainers.map(\.name) == [left.name])
        orphans.patterns = [try! GlobPattern("alpha*")]
        #expect(CleanupPlanner.plan(orphans, from: inputs).orphanContainers.isEmpty)
    }

    private func tagged(_ container: ContainerSummary, _ engine: String) -> ContainerSummary {
        var container = container
        container.engine = engine
        return container
    }

    private func taggedVolume(_ volume: Volume, _ engine: String) -> Volume {
        var volume = volume
        volume.engine = engine
        return volume
    }
}
