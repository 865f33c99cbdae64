import Foundation
import Testing

@testable import CCOrcKit

/// Which sessions and strays a cleanup selects, from recorded registry rows, engine lists and
/// tmux sessions.
struct CleanupPlannerTests {
    /// Three sessions: `alpha` running, `beta` stopped, `gamma` stopped and created two days ago,
    /// each with its state volumes.
    private let alpha = Fixture.record("alpha")
    private let beta = Fixture.record("beta")
    private let gamma = Fixture.record("gamma", createdAt: Fixture.now.addingTimeInterval(-2 * 86400))

    private func inputs(
        _ records: [SessionRecord]? = nil, containers: [ContainerSummary]? = nil, volumes: [Volume]? = nil,
        damaged: [DamagedRegistryRow] = [],
        launching: Set<SessionName> = []
    ) -> CleanupInputs {
        let records = records ?? [alpha, beta, gamma]
        let containers =
            containers
            ?? records.flatMap { Fixture.containers(of: $0, state: $0.name.rawValue == "alpha" ? "running" : "exited") }
        let volumes =
            volumes
            ?? records.flatMap { record in
                record.agents.map { Fixture.volume($0.stateVolume, session: record.name.rawValue) }
            }
        return CleanupInputs(
            rows: RegistryRows(sessions: records, damaged: damaged), containers: containers, volumes: volumes,
            tmuxSessions: records.filter { $0.name.rawValue == "alpha" }.map { Fixture.tmux($0.tmuxSession) },
            launchesUnderWay: launching, now: Fixture.now)
    }

    private func selection(_ configure: (inout CleanupSelection) -> Void) -> CleanupSelection {
        var selection = CleanupSelection()
        configure(&selection)
        return selection
    }

    private func names(_ plan: CleanupPlan) -> [String] { plan.items.map(\.name.rawValue) }

    @Test func anEmptySelectionPicksNothing() {
        let plan = CleanupPlanner.plan(CleanupSelection(), from: inputs())
        #expect(plan.isEmpty && plan.skipped.isEmpty && plan.unknownNames.isEmpty)
    }

    @Test func aNamedSessionIsRemovedWithItsContainersAndVolumes() {
        let plan = CleanupPlanner.plan(selection { $0.names = [Fixture.name("beta")] }, from: inputs())
        #expect(names(plan) == ["beta"])
        let item = plan.items[0]
        #expect(item.action == .remove && item.blocker == nil && item.legacyContainers.isEmpty)
        #expect(
            item.containers.map(\.name) == ["beta-lead", "beta-dev"]
                && item.volumes == ["beta-lead-state", "beta-dev-state"])
        #expect(plan.containersToRemove == 2 && plan.orphanContainers.isEmpty && plan.orphanVolumes.isEmpty)
    }

    @Test func anUnknownNameIsReportedAndADamagedRowIsNotUnknown() {
        let damaged = DamagedRegistryRow(key: "delta", reason: "bad config")
        let plan = CleanupPlanner.plan(
            selection { $0.names = [Fixture.name("beta"), Fixture.name("nope"), Fixture.name("delta")] },
            from: inputs(damaged: [damaged]))
        #expect(names(plan) == ["beta"])
        #expect(plan.unknownNames.map(\.rawValue) == ["nope"] && plan.damaged == [damaged])
    }

    @Test func aPatternSelectsTheSessionsItMatchesInNameOrder() throws {
        let plan = CleanupPlanner.plan(selection { $0.patterns = [try! GlobPattern("*a")] }, from: inputs())
        #expect(names(plan) == ["alpha", "beta", "gamma"])
        let some = CleanupPlanner.plan(selection { $0.patterns = [try! GlobPattern("[ab]*")] }, from: inputs())
        #expect(names(some) == ["alpha", "beta"] && some.unknownNames.isEmpty)
    }

    @Test func stoppedOnlyLeavesOutSessionsWithARunningContainer() {
        let plan = CleanupPlanner.plan(selection { $0.stoppedOnly = true }, from: inputs())
        #expect(names(plan) == ["beta", "gamma"])
        // A container labelled with the session but no agent's (a helper the user started) counts as running too.
        var containers = inputs().containers
        containers.append(Fixture.container("beta-helper", state: "running", session: "beta"))
        let withHelper = CleanupPlanner.plan(selection { $0.stoppedOnly = true }, from: inputs(containers: containers))
        #expect(names(withHelper) == ["gamma"])
        // A named session that runs is left out, silently.
        let named = CleanupPlanner.plan(
            selection {
                $0.stoppedOnly = true
                $0.names = [Fixture.name("alpha")]
            }, from: inputs())
        #expect(plan.skipped.isEmpty && named.isEmpty && named.unknownNames.isEmpty)
    }

    @Test func olderThanCountsFromTheLaunchOrTheLastResume() {
        let day: TimeInterval = 86400
        #expect(names(CleanupPlanner.plan(selection { $0.olderThan = day }, from: inputs())) == ["gamma"])
        // Exactly as old as asked is old enough; a second younger is not.
        #expect(names(CleanupPlanner.plan(selection { $0.olderThan = 2 * day }, from: inputs())) == ["gamma"])
        #expect(names(CleanupPlanner.plan(selection { $0.olderThan = 2 * day + 1 }, from: inputs())).isEmpty)
        // A session launched long ago but resumed an hour ago is young.
        let resumed = Fixture.record(
            "gamma", createdAt: Fixture.now.addingTimeInterval(-9 * day),
            lastResumedAt: Fixture.now.addingTimeInterval(-3600))
        #expect(
            names(CleanupPlanner.plan(selection { $0.olderThan = day }, from: inputs([alpha, beta, resumed]))).isEmpty)
    }

    @Test func fixBrokenRepairsOnlySessionsWithMissingContainers() {
        var containers = inputs().containers
        containers.removeAll { $0.name == "beta-dev" }
        let plan = CleanupPlanner.plan(selection { $0.fixBroken = true }, from: inputs(containers: containers))
        #expect(names(plan) == ["beta"] && plan.items[0].action == .repair)
        #expect(plan.items[0].status.missingAgents.map(\.record.containerName) == ["beta-dev"])
        #expect(plan.containersToRemove == 0)
        #expect(CleanupPlanner.imagesToLookUp(plan) == ["agent:1"])
    }

    @Test func fixBrokenWithDropRemovesThem() {
        var containers = inputs().containers
        containers.removeAll { $0.name == "beta-dev" }
        let plan = CleanupPlanner.plan(
            selection {
                $0.fixBroken = true
                $0.dropBroken = true
            }, from: inputs(containers: containers))
        #expect(names(plan) == ["beta"] && plan.items[0].action == .remove)
        #expect(plan.items[0].containers.map(\.name) == ["beta-lead"] && CleanupPlanner.imagesToLookUp(plan).isEmpty)
    }

    @Test func fixBrokenTakesContainersUnderAnUnrecordedID() {
        // What a repair that died before recording the new IDs leaves.
        var containers = inputs().containers
        containers.removeAll { $0.name == "gamma-lead" }
        containers.append(Fixture.container("gamma-lead", id: "new-id", state: "exited", session: "gamma"))
        let plan = CleanupPlanner.plan(selection { $0.fixBroken = true }, from: inputs(containers: containers))
        #expect(names(plan) == ["gamma"] && plan.items[0].status.staleContainerIDs == ["gamma-lead": "new-id"])
    }

    @Test func aMissingImageBlocksTheRepair() {
        var containers = inputs().containers
        containers.removeAll { $0.name == "beta-dev" || $0.name == "gamma-dev" }
        let records = [
            alpha, beta,
            Fixture.record("gamma", createdAt: Fixture.now.addingTimeInterval(-2 * 86400), image: "gone:2"),
        ]
        let plan = CleanupPlanner.plan(selection { $0.fixBroken = true }, from: inputs(records, containers: containers))
        #expect(CleanupPlanner.imagesToLookUp(plan) == ["agent:1", "gone:2"])
        let resolved = CleanupPlanner.resolvingImages(plan, imageIDs: ["agent:1": "sha256:1"])
        #expect(resolved.items.map(\.imageID) == ["sha256:1", nil])
        #expect(resolved.items[0].blocker == nil)
        #expect(
            resolved.items[1].blocker
                == "its image gone:2 no longer exists; remove the session with `ccorc cleanup --fix-broken --drop --remove gamma`"
        )
    }

    @Test func aLaunchUnderWayIsSkipped() {
        let plan = CleanupPlanner.plan(
            selection { $0.names = [Fixture.name("beta")] }, from: inputs(launching: [Fixture.name("beta")]))
        #expect(
            plan.items.isEmpty && plan.skipped.map(\.name.rawValue) == ["beta"]
                && plan.skipped.map(\.reason) == ["it is being launched"])
    }

    @Test func orphansAreWhatNoRegisteredSessionClaims() {
        var containers = inputs().containers
        containers += [
            Fixture.container("old-lead", session: "old"), Fixture.container("zed-lead", session: "zed"),
            Fixture.container("delta-lead", session: "delta"),  // a damaged row's: not an orphan
            Fixture.container("beta-lead", id: "dup", session: "gone"),  // claimed by its name
            Fixture.container("unrelated", session: nil),
        ]
        var volumes = inputs().volumes
        volumes += [
            Fixture.volume("old-lead-state", session: "old"), Fixture.volume("delta-lead-state", session: "delta"),
            Fixture.volume("loose", session: nil),
        ]
        let all = inputs(
            containers: containers, volumes: volumes, damaged: [DamagedRegistryRow(key: "delta", reason: "bad status")])
        let plan = CleanupPlanner.plan(selection { $0.orphans = true }, from: all)
        #expect(plan.items.isEmpty)
        #expect(
            plan.orphanContainers.map(\.name).sorted() == ["old-lead", "zed-lead"]
                && plan.orphanVolumes.map(\.name) == ["old-lead-state"])
        #expect(plan.containersToRemove == 2)
        // With names or patterns, only strays labelled with a session in scope; the named sessions go too.
        let scoped = CleanupPlanner.plan(
            selection {
                $0.orphans = true
                $0.names = [Fixture.name("zed"), Fixture.name("beta")]
            }, from: all)
        #expect(
            names(scoped) == ["beta"] && scoped.orphanContainers.map(\.name) == ["zed-lead"]
                && scoped.orphanVolumes.isEmpty)
        #expect(scoped.unknownNames.map(\.rawValue) == ["zed"])
        let patterned = CleanupPlanner.plan(
            selection {
                $0.orphans = true
                $0.patterns = [try! GlobPattern("o*")]
            }, from: all)
        #expect(
            patterned.items.isEmpty && patterned.orphanContainers.map(\.name) == ["old-lead"]
                && patterned.orphanVolumes.map(\.name) == ["old-lead-state"])
    }

    @Test func aLegacySessionsContainersAreLeftUnlessIncluded() {
        let legacy = Fixture.record("old", legacy: true)
        let containers = [
            Fixture.container("old-lead", id: "x1", state: "exited", session: nil),
            Fixture.container("old-dev", id: "x2", state: "exited", session: nil),
        ]
        let plain = CleanupPlanner.plan(
            selection { $0.names = [Fixture.name("old")] }, from: inputs([legacy], containers: containers, volumes: []))
        #expect(plain.items.isEmpty)
        #expect(
            plain.skipped.map(\.reason) == [
                "its containers were not made by ccorc (old-lead, old-dev): remove them with `ccdk rm -f`, or add --include-legacy, then run this again"
            ])
        let included = CleanupPlanner.plan(
            selection {
                $0.names = [Fixture.name("old")]
                $0.includeLegacy = true
            }, from: inputs([legacy], containers: containers, volumes: []))
        #expect(names(included) == ["old"] && included.items[0].legacyContainers.map(\.id) == ["x1", "x2"])
        #expect(included.items[0].containers.map(\.id) == ["x1", "x2"] && included.containersToRemove == 2)
        // A legacy session is never repaired.
        let broken = CleanupPlanner.plan(
            selection {
                $0.fixBroken = true
                $0.includeLegacy = true
            }, from: inputs([legacy], containers: [], volumes: []))
        #expect(broken.isEmpty)
    }

    @Test func allSessionsSelectsEverySessionInScope() {
        #expect(
            names(CleanupPlanner.plan(selection { $0.allSessions = true }, from: inputs())) == [
                "alpha", "beta", "gamma",
            ])
    }

    @Test func measuredSizesAddUpForWhatIsRemoved() {
        let records = [beta]
        let containers = [
            Fixture.container("beta-lead", state: "exited", session: "beta", sizeRw: 100),
            Fixture.container("beta-dev", state: "exited", session: "beta", sizeRw: 20),
            Fixture.container("old-lead", state: "exited", session: "old", sizeRw: 3),
        ]
        var measured = inputs(records, containers: containers)
        measured.measuredDisk = true
        let plan = CleanupPlanner.plan(
            selection {
                $0.patterns = [try! GlobPattern("*")]
                $0.orphans = true
            }, from: measured)
        #expect(plan.items[0].diskBytes == 120 && plan.diskBytes == 123)
        #expect(
            CleanupPlanner.plan(
                selection { $0.names = [Fixture.name("beta")] }, from: inputs(records, containers: containers)
            ).diskBytes == nil)
    }
}
