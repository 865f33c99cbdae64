import Foundation
import Testing

@testable import CCOrcKit

/// Each rule of the health assessment, on recorded facts: a healthy session, then one thing wrong.
struct HealthAssessmentTests {
    private static let gib: Int64 = 1 << 30
    private let restart = "`ccorc stop s && ccorc resume s`"
    private let resume = "`ccorc resume s`"

    /// A `GET /containers/{id}/json` reply.
    private static func details(
        _ name: String, state: String = "running", pid: Int = 0, exitCode: Int = 0, oomKilled: Bool = false,
        restarts: Int = 0, memory: Int64 = 0
    ) -> ContainerDetails {
        let json: JSONValue = [
            "Id": .string("id-\(name)"), "Name": .string("/\(name)"), "RestartCount": .int(Int64(restarts)),
            "State": [
                "Status": .string(state), "Pid": .int(Int64(pid)), "ExitCode": .int(Int64(exitCode)),
                "OOMKilled": .bool(oomKilled),
                "StartedAt": "2026-11-24T15:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z",
            ],
            "Config": ["Image": "agent:1", "Labels": ["ccorc.session": "s"]],
            "HostConfig": ["Memory": .int(memory)],
        ]
        return try! ContainerDetails(json: json)
    }

    private static func pane(
        _ window: String, index: Int, pid: Int32, dead: Bool = false, exitStatus: Int? = nil, command: String = "ccdk"
    ) -> TmuxPane {
        TmuxPane(
            id: "%\(index)", windowID: "@\(index)", windowIndex: index, windowName: window, index: 0, pid: pid,
            isDead: dead,
            exitStatus: exitStatus, exitSignal: nil, isActive: true, currentCommand: command)
    }

    /// Session `s` with agents `lead` and `dev`: both containers run the agent under the
    /// keep-alive, well within 1 GiB, their state volumes and directories exist, and each window
    /// runs `ccdk shell` into its container.
    private static func healthy() -> HealthFacts {
        let record = Fixture.record("s")
        let status = SessionReconciliation.statuses(
            [record], containers: Fixture.containers(of: record), tmuxSessions: [Fixture.tmux("s")])[0]
        var probes: [String: ContainerProbe] = [:]
        var panes: [TmuxPane] = []
        var commandLines: [Int32: [String]] = [:]
        for (index, agent) in record.agents.enumerated() {
            let main = Int32(1000 + 10 * index)
            let processes = [
                ContainerProcess(
                    pid: main, parentPID: 1, commandLine: ["sh", "-c", "while :; do sleep 3600 & wait $!; done"]),
                ContainerProcess(pid: main + 1, parentPID: main, commandLine: ["sleep", "3600"]),
                ContainerProcess(pid: main + 2, parentPID: 1, commandLine: ["sh", "-c", "claude"]),
            ]
            probes["id-\(agent.containerName)"] = ContainerProbe(
                details: details(agent.containerName, pid: Int(main), memory: gib),
                usage: ResourceUsage(
                    memoryUsage: 100 << 20, memoryLimit: gib, cpuUsageNanoseconds: 5, cpuQuotaNanoCPUs: nil,
                    pids: processes.map(\.pid), source: .cgroupV2),
                oomKills: 0, processes: processes, stateDirectoryExists: true)
            let pid = Int32(3000 + index)
            panes.append(pane(agent.role.rawValue, index: index, pid: pid))
            commandLines[pid] = ["/usr/local/bin/ccdk", "shell", "-i", agent.containerName, "--", "sh", "-c", "claude"]
        }
        return HealthFacts(
            status: status, probes: probes, volumes: Set(record.agents.map(\.stateVolume)), panes: panes,
            paneCommandLines: commandLines,
            shellCommand: "ccdk")
    }

    /// The facts with `s-lead`'s container listed in `state` (and its window gone when it is not running).
    private static func withLead(
        _ state: String, status: String? = nil, details: ContainerDetails? = nil, tmux: Bool = true
    ) -> HealthFacts {
        var facts = healthy()
        var record = facts.status.record
        record.agents[0].containerID = "id-s-lead"
        let containers = [
            Fixture.container("s-lead", state: state, status: status, session: "s"),
            Fixture.container("s-dev", session: "s"),
        ]
        facts.status =
            SessionReconciliation.statuses(
                [record], containers: containers, tmuxSessions: tmux ? [Fixture.tmux("s")] : [])[0]
        facts.probes["id-s-lead"] = details.map { ContainerProbe(details: $0) }
        if state != "running" { facts.panes.removeFirst() }
        return facts
    }

    private func issue(_ severity: HealthVerdict, _ subject: String, _ message: String, fix: String?) -> HealthIssue {
        HealthIssue(severity: severity, subject: subject, message: message, fix: fix)
    }

    @Test func aHealthySessionHasNoIssues() {
        let health = HealthAssessment.assess(Self.healthy())
        #expect(health.issues.isEmpty && health.verdict == .healthy && health.condition == .running)
        #expect(
            health.containers.map(\.agentRunning) == [true, true]
                && health.containers.map { $0.agentProcesses.map(\.pid) } == [[1002], [1012]])
        #expect(
            health.tmux.windows.map(\.runsAgentShell) == [true, true] && health.tmux.present
                && health.tmux.extraWindows.isEmpty)
    }

    @Test func aWindowOfTheUsersIsListedNotFaulted() {
        var facts = Self.healthy()
        facts.panes.append(Self.pane("notes", index: 5, pid: 3005, command: "vim"))
        let health = HealthAssessment.assess(facts)
        #expect(health.issues.isEmpty && health.tmux.extraWindows == ["notes"])
    }

    @Test func aLaunchUnderWayIsDegraded() {
        var facts = Self.healthy()
        facts.status.record.status = .launching
        facts.launchUnderWay = true
        let health = HealthAssessment.assess(facts)
        #expect(health.issues == [issue(.degraded, "s", "its launch has not finished", fix: "wait for it")])
        #expect(health.condition == .launching && health.verdict == .degraded)
    }

    @Test func aLaunchThatDiedIsBroken() {
        var facts = Self.healthy()
        facts.status.record.status = .launching
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(
                    .broken, "s", "its launch died before it finished (the launching process is gone)",
                    fix: "`ccorc cleanup --remove s`, then launch it again")
            ])
    }

    @Test func aMissingContainerIsBroken() {
        var facts = Self.healthy()
        facts.status.agents[1].container = nil
        facts.panes.removeLast()
        let health = HealthAssessment.assess(facts)
        #expect(
            health.issues == [
                issue(
                    .broken, "s-dev", "container is missing (removed behind ccorc's back)",
                    fix: "`ccorc cleanup --fix-broken s`"),
                issue(.degraded, "window dev", "window is missing (closed, or its agent shell ended)", fix: resume),
            ])
        #expect(health.containers[1].id == nil && health.containers[1].state == "missing" && health.verdict == .broken)
    }

    @Test func aContainerThatCouldNotBeInspectedIsBroken() {
        var facts = Self.healthy()
        facts.probes["id-s-dev"] = nil
        facts.probeFailures["id-s-dev"] = "container was removed while it was being checked"
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(
                    .broken, "s-dev", "container was removed while it was being checked", fix: "`ccorc health s` again")
            ])
    }

    @Test func aMissingStateVolumeIsBroken() {
        var facts = Self.healthy()
        facts.volumes.remove("s-lead-state")
        // The volume rule comes first: a missing state directory of a missing volume is not reported again.
        facts.probes["id-s-lead"]?.stateDirectoryExists = false
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(
                    .broken, "s-lead-state", "state volume is missing",
                    fix: "`ccdk rm -f s-lead`, then `ccorc cleanup --fix-broken s`")
            ])
    }

    @Test func aMissingStateDirectoryIsBroken() {
        var facts = Self.healthy()
        facts.probes["id-s-lead"]?.stateDirectoryExists = false
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(
                    .broken, "s-lead", "state directory /root/.claude does not exist",
                    fix: "`ccdk exec s-lead -- mkdir -p /root/.claude`")
            ])
    }

    @Test func anAgentCommandThatIsNotRunningIsBroken() {
        var facts = Self.healthy()
        facts.status.record.agentCommand = "ANTHROPIC_API_KEY=sk-ant-secret claude"
        // `sh -c` exec'd into the program in one container; gone in the other.
        facts.probes["id-s-lead"]?.processes[2].commandLine = ["claude"]
        facts.probes["id-s-dev"]?.processes.removeLast()
        let health = HealthAssessment.assess(facts)
        #expect(
            health.issues == [
                issue(
                    .broken, "s-dev", "agent command `ANTHROPIC_API_KEY=<masked> claude` is not running", fix: restart)
            ])
        #expect(health.containers.map(\.agentRunning) == [true, false])
    }

    @Test func oomKillsInARunningContainerAreBroken() {
        var facts = Self.healthy()
        facts.probes["id-s-lead"]?.oomKills = 2
        // The kills are reported, not also the memory use near the limit.
        facts.probes["id-s-lead"]?.usage?.memoryUsage = Self.gib - 1
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(
                    .broken, "s-lead", "the kernel killed 2 process(es) for exceeding the memory limit of 1GiB",
                    fix: "raise it with `ccdk update s-lead --memory SIZE`, then \(restart)")
            ])
    }

    @Test func memoryNearItsLimitIsDegraded() {
        var facts = Self.healthy()
        facts.probes["id-s-lead"]?.usage?.memoryUsage = Self.gib * 9 / 10 + 1
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(
                    .degraded, "s-lead", "memory use 921.60MiB is at 90% of its limit of 1GiB",
                    fix: "`ccdk update s-lead --memory SIZE`")
            ])
        // Just under 90% is fine.
        facts.probes["id-s-lead"]?.usage?.memoryUsage = Self.gib * 9 / 10 - 1
        #expect(HealthAssessment.assess(facts).issues.isEmpty)
    }

    @Test func engineRestartsAreDegraded() {
        var facts = Self.healthy()
        facts.probes["id-s-dev"]?.details.restartCount = 3
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(.degraded, "s-dev", "the engine restarted it 3 time(s)", fix: "see `ccdk logs s-dev`")
            ])
    }

    @Test func aPausedContainerIsDegraded() {
        let facts = Self.withLead("paused", details: Self.details("s-lead", state: "paused", pid: 1000))
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(.degraded, "s-lead", "container is paused", fix: resume),
                issue(.degraded, "window lead", "window is missing (closed, or its agent shell ended)", fix: resume),
            ])
    }

    @Test func aContainerTheKernelKilledIsBroken() {
        let facts = Self.withLead(
            "exited", details: Self.details("s-lead", state: "exited", exitCode: 137, oomKilled: true, memory: Self.gib)
        )
        #expect(
            HealthAssessment.assess(facts).issues.first
                == issue(
                    .broken, "s-lead", "the kernel killed it for exceeding the memory limit of 1GiB",
                    fix: "raise it with `ccdk update s-lead --memory SIZE`, then \(resume)"))
    }

    @Test func aContainerThatFailedIsBroken() {
        let inspected = Self.withLead("exited", details: Self.details("s-lead", state: "exited", exitCode: 2))
        #expect(
            HealthAssessment.assess(inspected).issues.first
                == issue(
                    .broken, "s-lead", "container exited with status 2", fix: "see `ccdk logs s-lead`, then \(resume)"))
        // Not inspected (a bounded check): the exit code comes from the list's status text; 137 is explained.
        let listed = Self.withLead("exited", status: "Exited (137) 5 minutes ago")
        let health = HealthAssessment.assess(listed)
        #expect(
            health.issues.first
                == issue(
                    .broken, "s-lead", "container exited with status 137 (killed: out of memory or SIGKILL)",
                    fix: "see `ccdk logs s-lead`, then \(resume)"))
        #expect(health.containers[0].exitCode == 137)
    }

    @Test func aContainerThatStoppedAloneIsDegraded() {
        let facts = Self.withLead("exited")
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(.degraded, "s-lead", "container is stopped", fix: resume),
                issue(.degraded, "window lead", "window is missing (closed, or its agent shell ended)", fix: resume),
            ])
    }

    @Test func aSessionStoppedOnPurposeHasNoIssues() {
        let record = Fixture.record("s")
        let status = SessionReconciliation.statuses(
            [record], containers: Fixture.containers(of: record, state: "exited"), tmuxSessions: [])[0]
        let health = HealthAssessment.assess(
            HealthFacts(status: status, volumes: ["s-lead-state", "s-dev-state"], shellCommand: "ccdk"))
        #expect(
            health.issues.isEmpty && health.verdict == .stopped && health.condition == .stopped && !health.tmux.present)
    }

    @Test func aDeadContainerIsBroken() {
        let facts = Self.withLead("dead", details: Self.details("s-lead", state: "dead"))
        #expect(
            HealthAssessment.assess(facts).issues.first
                == issue(
                    .broken, "s-lead", "container is dead",
                    fix: "`ccdk rm -f s-lead`, then `ccorc cleanup --fix-broken s`"))
    }

    @Test func tmuxGoneWhileContainersRunIsBroken() {
        var facts = Self.healthy()
        facts.status.tmux = nil
        facts.panes = []
        let health = HealthAssessment.assess(facts)
        #expect(health.issues == [issue(.broken, "s", "tmux session is gone while its containers run", fix: resume)])
        #expect(health.tmux.windows.isEmpty)
    }

    @Test func tmuxClosedWithNothingRunningIsDegraded() {
        // Paused containers: nothing runs, yet the session was not stopped on purpose.
        let facts = Self.withLead("paused", details: Self.details("s-lead", state: "paused"), tmux: false)
        var paused = facts
        paused.status.agents[1].container?.state = .paused
        paused.probes = [:]
        #expect(
            HealthAssessment.assess(paused).issues == [
                issue(.degraded, "s-lead", "container is paused", fix: resume),
                issue(.degraded, "s-dev", "container is paused", fix: resume),
                issue(.degraded, "s", "tmux session is closed", fix: resume),
            ])
    }

    @Test func aDeadPaneIsBroken() {
        var facts = Self.healthy()
        facts.panes[1].isDead = true
        facts.panes[1].exitStatus = 1
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(.broken, "window dev", "pane is dead (exit status 1)", fix: restart)
            ])
        facts.panes[1].exitStatus = nil
        #expect(HealthAssessment.assess(facts).issues == [issue(.broken, "window dev", "pane is dead", fix: restart)])
    }

    @Test func aPaneThatRunsSomethingElseIsBroken() {
        var facts = Self.healthy()
        facts.paneCommandLines[3001] = ["-bash"]
        facts.panes[1].currentCommand = "bash"
        #expect(
            HealthAssessment.assess(facts).issues == [
                issue(.broken, "window dev", "pane runs `bash`, not the agent's `ccdk shell`", fix: restart)
            ])
        // `ccdk shell` into another container is not the agent's either.
        facts.paneCommandLines[3001] = ["ccdk", "shell", "-i", "s-lead"]
        #expect(HealthAssessment.assess(facts).issues.count == 1)
        // Without /proc, the pane's foreground command decides.
        facts.paneCommandLines = [:]
        facts.panes[1].currentCommand = "ccdk"
        #expect(HealthAssessment.assess(facts).issues.isEmpty)
        facts.panes[1].currentCommand = "bash"
        #expect(HealthAssessment.assess(facts).issues.count == 1)
    }

    @Test func aMissingWindowOfARunningAgentIsBroken() {
        var facts = Self.healthy()
        facts.panes.removeFirst()
        let health = HealthAssessment.assess(facts)
        #expect(
            health.issues == [
                issue(.broken, "window lead", "window is missing (closed, or its agent shell ended)", fix: resume)
            ])
        #expect(health.tmux.windows.map(\.present) == [false, true])
    }

    @Test func aLegacySessionsWindowsAreNotJudged() {
        let record = Fixture.record("s", legacy: true)
        let status = SessionReconciliation.statuses(
            [record], containers: Fixture.containers(of: record), tmuxSessions: [Fixture.tmux("s")])[0]
        let health = HealthAssessment.assess(HealthFacts(status: status, shellCommand: "ccdk"))
        #expect(
            health.issues.isEmpty && health.tmux.windows.isEmpty && health.containers.map(\.volumeExists) == [nil, nil])
        #expect(health.containers.map(\.stateDirectory) == [nil, nil])
    }

    @Test func issuesComeWorstFirst() {
        var facts = Self.healthy()
        facts.probes["id-s-lead"]?.details.restartCount = 1
        facts.panes[1].isDead = true
        let health = HealthAssessment.assess(facts)
        #expect(
            health.issues.map(\.severity) == [.broken, .degraded]
                && health.issues.map(\.subject) == ["window dev", "s-lead"])
    }
}
