import Foundation
import Testing

@testable import CCOrcKit

/// tmux windows as the spec uses them, and what `list` and `health` say about a session, against
/// the real engine and a private tmux server.
@Suite(.serialized) struct SessionWindowsIntegrationTests {
    /// The session's windows by index: `INDEX NAME` each.
    private func windows(_ bed: SessionTestbed, _ name: String) throws -> [String] {
        try ScratchTmux(socketName: bed.tmuxName).run(
            "list-windows", "-t", "=\(name):", "-F", "#{window_index} #{window_name}"
        )
        .split(separator: "\n").map(String.init)
    }

    /// The window names in index order.
    private func windowNames(_ bed: SessionTestbed, _ name: String) throws -> [String] {
        try windows(bed, name).map { String($0.split(separator: " ", maxSplits: 1)[1]) }
    }

    /// Runs `ccorc health NAME --json` and returns its exit status and the session's report.
    private func health(_ bed: SessionTestbed, _ name: String) async throws -> (status: Int32, session: JSONValue) {
        let result = try await Products.run("ccorc", ["health", "--json", name], environment: bed.environment)
        let report = try JSONValue.parse(result.stdout)
        return (result.status, try #require(report["sessions"]?.array?.first { $0["name"]?.string == name }))
    }

    private func issues(_ session: JSONValue) -> [String] {
        (session["issues"]?.array ?? []).map {
            "\($0["subject"]?.string ?? ""): \($0["message"]?.string ?? "") -> \($0["fix"]?.string ?? "")"
        }
    }

    /// Waits up to 15 s for the session to be healthy (its agent shells start a moment after launch).
    private func waitUntilHealthy(_ bed: SessionTestbed, _ name: String) async throws {
        var last = try await health(bed, name)
        for _ in 0..<60 where last.status != 0 || last.session["verdict"] != "healthy" {
            try await Task.sleep(for: .milliseconds(250))
            last = try await health(bed, name)
        }
        #expect(last.session["verdict"] == "healthy", "\(name) never became healthy: \(last.session.serialized())")
    }

    @Test func resumeReopensClosedWindowsInTheAgentsOrder() async throws {
        try await SessionTestbed.with("wre") { bed in
            let name = bed.prefix + "-w"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            try await waitUntilHealthy(bed, name)
            let tmux = ScratchTmux(socketName: bed.tmuxName)

            // The middle agent's window closed inside the running tmux session.
            try tmux.run("kill-window", "-t", "=\(name):=researcher")
            #expect(try windowNames(bed, name) == ["leader", "writer"])
            let resume = try await bed.ccorc("resume", name, "--detach")
            #expect(resume.status == 0, "\(resume.stderr)")
            #expect(try windowNames(bed, name) == ["leader", "researcher", "writer"])
            try await waitUntilHealthy(bed, name)

            // The first agent's window closed, with a window of the user's own after the agents'.
            try tmux.run("new-window", "-d", "-t", "=\(name):", "-n", "monitoring", "sleep 600")
            try tmux.run("kill-window", "-t", "=\(name):=leader")
            await #expect(try bed.ccorc("resume", name, "--detach").status == 0)
            #expect(try windowNames(bed, name) == ["leader", "researcher", "writer", "monitoring"])
            try await waitUntilHealthy(bed, name)
            // Nothing missing: a resume adds no window.
            await #expect(try bed.ccorc("resume", name, "--detach").status == 0)
            #expect(try windowNames(bed, name) == ["leader", "researcher", "writer", "monitoring"])
        }
    }

    @Test func resumeFinishesAResumeKilledHalfway() async throws {
        try await SessionTestbed.with("wkill") { bed in
            let name = bed.prefix + "-k"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            await #expect(try bed.ccorc("stop", name, "--time", "1").status == 0)
            // Killed after the tmux session and its first window, before the others.
            let killed = try await bed.ccorc(
                environment: ["CCORC_FAIL_AT": "resume.tmux-window:kill"], "resume", name, "--detach")
            #expect(killed.signal == SIGKILL, "\(killed.status) \(killed.stderr)")
            #expect(try windowNames(bed, name) == ["leader"])
            let rerun = try await bed.ccorc("resume", name, "--detach")
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(try windowNames(bed, name) == ["leader", "researcher", "writer"])
            try await waitUntilHealthy(bed, name)
        }
    }

    @Test func healthListsTheUsersWindowsAndNamesResumeForAMissingOne() async throws {
        try await SessionTestbed.with("wextra") { bed in
            let name = bed.prefix + "-x"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            try await waitUntilHealthy(bed, name)
            try ScratchTmux(socketName: bed.tmuxName).run(
                "new-window", "-d", "-t", "=\(name):", "-n", "monitoring", "sleep 600")

            let (status, session) = try await health(bed, name)
            #expect(status == 0, "\(issues(session))")
            #expect(session["verdict"] == "healthy")
            #expect(session["tmux"]?["windowCount"]?.int == 4)
            #expect(session["tmux"]?["extraWindows"] == ["monitoring"])
            let text = try await bed.ccorc("health", name)
            #expect(text.status == 0 && text.stdout.hasPrefix("\(name): healthy\n"), "\(text.stdout)")
            #expect(text.stdout.contains("; extra: monitoring"), "\(text.stdout)")

            try ScratchTmux(socketName: bed.tmuxName).run("kill-window", "-t", "=\(name):=writer")
            let (missingStatus, missing) = try await health(bed, name)
            #expect(missingStatus == 1)
            #expect(missing["verdict"] == "broken")
            #expect(
                issues(missing) == [
                    "window writer: window is missing (closed, or its agent shell ended) -> `ccorc resume \(name)`"
                ])
            await #expect(try bed.ccorc("resume", name, "--detach").status == 0)
            try await waitUntilHealthy(bed, name)
        }
    }

    @Test func listAndHealthSayWhatEachSessionIs() async throws {
        try await SessionTestbed.with("wstat") { bed in
            let running = bed.prefix + "-run"
            let stopped = bed.prefix + "-stop"
            let partly = bed.prefix + "-part"
            let broken = bed.prefix + "-brk"
            let launch = try await bed.ccorc(
                "launch", running, stopped, partly, broken, "--detach", "--agents", "leader,writer")
            #expect(launch.status == 0, "\(launch.stderr)")
            try await waitUntilHealthy(bed, running)
            await #expect(try bed.ccorc("stop", stopped, "--time", "1").status == 0)
            await #expect(try bed.ccdk("stop", "-t", "1", partly + "-writer").status == 0)
            try await bed.engine.removeContainer(broken + "-writer", force: true)

            let conditions = await Dictionary(
                uniqueKeysWithValues: try bed.list().map { ($0["name"]?.string ?? "", $0["condition"]?.string) })
            #expect(conditions == [running: "running", stopped: "stopped", partly: "partlyRunning", broken: "broken"])

            let list = try await bed.ccorc("list")
            #expect(list.status == 0)
            let statusColumn = Dictionary(
                uniqueKeysWithValues: list.stdout.split(separator: "\n").dropFirst().map { line in
                    let cells = line.split(separator: "   ").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                        !$0.isEmpty
                    }
                    return (cells.first ?? "", cells.last ?? "")
                })
            #expect(
                statusColumn == [running: "running", stopped: "stopped", partly: "partly running", broken: "broken"],
                "\(list.stdout)")

            // --verbose: agents under headings of their own, indented below their session.
            let verbose = try await bed.ccorc("list", "--verbose").stdout.split(
                separator: "\n", omittingEmptySubsequences: false
            ).map(String.init)
            #expect(verbose.first?.hasPrefix("NAME ") == true, "\(verbose)")
            let row = try #require(verbose.firstIndex { $0.hasPrefix(running + " ") }, "\(verbose)")
            #expect(
                verbose[row + 1].hasPrefix("    ROLE ") && verbose[row + 1].contains("CONTAINER")
                    && verbose[row + 1].contains("STATE"), "\(verbose)")
            #expect(
                verbose[row + 2].hasPrefix("    leader ") && verbose[row + 2].contains(running + "-leader"),
                "\(verbose)")
            #expect(
                verbose[row + 3].hasPrefix("    writer ") && verbose[row + 3].contains(running + "-writer"),
                "\(verbose)")

            // Stopped on purpose is no issue; partly down without a stop is.
            let (stoppedStatus, stoppedHealth) = try await health(bed, stopped)
            #expect(stoppedStatus == 0)
            #expect(
                stoppedHealth["verdict"] == "stopped" && stoppedHealth["condition"] == "stopped",
                "\(issues(stoppedHealth))")
            #expect(issues(stoppedHealth).isEmpty)
            let stoppedText = try await bed.ccorc("health", stopped)
            #expect(
                stoppedText.status == 0 && stoppedText.stdout.hasPrefix("\(stopped): stopped\n"),
                "\(stoppedText.stdout)")
            let (partlyStatus, partlyHealth) = try await health(bed, partly)
            #expect(partlyStatus == 1)
            #expect(
                partlyHealth["verdict"] == "degraded" && partlyHealth["condition"] == "partlyRunning",
                "\(issues(partlyHealth))")
            #expect(issues(partlyHealth).contains("\(partly)-writer: container is stopped -> `ccorc resume \(partly)`"))
        }
    }
}
