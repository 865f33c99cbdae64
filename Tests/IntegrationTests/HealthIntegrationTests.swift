import Foundation
import Testing

@testable import CCOrcKit

/// `ccorc health` against real containers and a real tmux server.
@Suite(.serialized) struct HealthIntegrationTests {
    /// Runs `ccorc health ARGS --json` and returns its exit status and report.
    private func health(
        _ bed: SessionTestbed, _ arguments: String...
    ) async throws -> (status: Int32, report: JSONValue) {
        let result = try await Products.run("ccorc", ["health", "--json"] + arguments, environment: bed.environment)
        return (result.status, try JSONValue.parse(result.stdout))
    }

    /// Waits up to 15 s for a just-launched session's agent shells to start (slow on a loaded
    /// machine); a session still not healthy then fails the test with its last report.
    private func waitUntilHealthy(_ bed: SessionTestbed, _ name: String) async throws {
        var last = try await health(bed, name)
        for _ in 0..<60 where last.status != 0 {
            try await Task.sleep(for: .milliseconds(250))
            last = try await health(bed, name)
        }
        #expect(last.status == 0, "\(name) never became healthy: \(last.report.serialized())")
    }

    private func session(_ report: JSONValue, _ name: String) throws -> JSONValue {
        try #require(report["sessions"]?.array?.first { $0["name"]?.string == name })
    }

    private func issues(_ session: JSONValue) -> [String] {
        (session["issues"]?.array ?? []).map {
            "\($0["subject"]?.string ?? ""): \($0["message"]?.string ?? "") -> \($0["fix"]?.string ?? "")"
        }
    }

    @Test func healthyThenStopped() async throws {
        try await SessionTestbed.with("hok") { bed in
            let name = bed.prefix + "-h"
            await #expect(try bed.ccorc("launch", name, "--detach", "--container-memory", "64m").status == 0)
            try await waitUntilHealthy(bed, name)
            let (status, report) = try await health(bed, name)
            let healthy = try session(report, name)
            #expect(status == 0, "\(issues(healthy))")
            #expect(healthy["verdict"] == "healthy")
            let containers = healthy["containers"]?.array ?? []
            #expect(containers.count == 3)
            for container in containers {
                #expect(container["state"] == "running")
                #expect(container["agentRunning"] == true)
                #expect(container["stateDirectoryExists"] == true)
                #expect(container["volumeExists"] == true)
                #expect(container["memoryLimit"]?.int == 64 << 20)
                #expect((container["memoryUsage"]?.int ?? 0) > 0)
                #expect(container["usageSource"] == "cgroupV1" || container["usageSource"] == "cgroupV2")
                #expect(container["oomKills"]?.int == 0)
                // `sh -c sh`, until busybox's sh execs into the agent command.
                let command = container["agentProcesses"]?.array?.first?["command"]
                #expect(command == ["sh"] || command == ["sh", "-c", "sh"])
            }
            let tmux = try #require(healthy["tmux"])
            #expect(tmux["present"] == true && tmux["windowCount"]?.int == 3 && tmux["attachedClients"]?.int == 0)
            #expect(tmux["windows"]?.array?.allSatisfy { $0["runsAgentShell"] == true && $0["dead"] == false } == true)

            // --all: two list calls plus one inspect per running container.
            let (allStatus, all) = try await health(bed, "--all")
            #expect(allStatus == 0)
            #expect(all["engineRequests"] == .int(5))
            let text = try await bed.ccorc("health", name)
            #expect(text.status == 0 && text.stdout.hasPrefix("\(name): healthy\n"))

            await #expect(try bed.ccorc("stop", name, "--time", "1").status == 0)
            let (stoppedStatus, stoppedReport) = try await health(bed, name)
            let stopped = try session(stoppedReport, name)
            // Stopped on purpose: its own verdict, no issues, exit 0.
            #expect(stoppedStatus == 0)
            #expect(stopped["verdict"] == "stopped", "\(issues(stopped))")
            #expect(issues(stopped).isEmpty)
            #expect(
                stopped["containers"]?.array?.allSatisfy {
                    $0["state"] == "stopped" && $0["exitCode"]?.int == 0 && $0["stateDirectoryExists"] == true
                } == true,
                "a stopped container's state directory is found through the archive endpoint")
            let (boundedStatus, boundedReport) = try await health(bed, "--all")
            #expect(boundedStatus == 0)
            #expect(boundedReport["engineRequests"] == .int(2), "no inspect for stopped containers")
            #expect(try session(boundedReport, name)["verdict"] == "stopped")
            #expect(boundedReport["verdict"] == "stopped")
        }
    }

    @Test func brokenSessions() async throws {
        try await SessionTestbed.with("hbad") { bed in
            let removed = bed.prefix + "-rm"
            let killedTmux = bed.prefix + "-tx"
            let killedAgent = bed.prefix + "-ag"
            let launch = try await bed.ccorc(
                "launch", removed, killedTmux, killedAgent, "--detach", "--agents", "leader,writer")
            #expect(launch.status == 0, "\(launch.stderr)")
            try await waitUntilHealthy(bed, killedAgent)

            // A container removed behind ccorc's back.
            try await bed.engine.removeContainer(removed + "-writer", force: true)
            // The tmux session killed behind its back while the containers run.
            _ = try ScratchTmux(socketName: bed.tmuxName).run("kill-session", "-t", "=\(killedTmux)")
            // The agent process killed inside a running container.
            let (_, before) = try await health(bed, killedAgent)
            let leader = try #require(try session(before, killedAgent)["containers"]?.array?.first)
            let agentPID = try #require(leader["agentProcesses"]?.array?.first?["pid"]?.int)
            #expect(kill(pid_t(agentPID), SIGKILL) == 0)
            // The agent's shell, and with it its window, ends a moment later.
            func leaderWindow(_ report: JSONValue) throws -> JSONValue? {
                try session(report, killedAgent)["tmux"]?["windows"]?.array?.first { $0["role"] == "leader" }
            }
            var (status, report) = try await health(bed, removed, killedTmux, killedAgent)
            for _ in 0..<40 where try leaderWindow(report)?["present"] != false {
                try await Task.sleep(for: .milliseconds(250))
                (status, report) = try await health(bed, removed, killedTmux, killedAgent)
            }
            #expect(status == 1)
            #expect(report["verdict"] == "broken")

            let gone = try session(report, removed)
            #expect(gone["verdict"] == "broken")
            #expect(gone["containers"]?.array?.first { $0["role"] == "writer" }?["state"] == "missing")
            #expect(
                issues(gone).contains(
                    "\(removed)-writer: container is missing (removed behind ccorc's back) -> `ccorc cleanup --fix-broken \(removed)`"
                ))

            let noTmux = try session(report, killedTmux)
            #expect(noTmux["verdict"] == "broken")
            #expect(noTmux["tmux"]?["present"] == false)
            #expect(
                issues(noTmux).contains(
                    "\(killedTmux): tmux session is gone while its containers run -> `ccorc resume \(killedTmux)`"))

            let noAgent = try session(report, killedAgent)
            #expect(noAgent["verdict"] == "broken")
            let dead = try #require(noAgent["containers"]?.array?.first { $0["role"] == "leader" })
            #expect(dead["state"] == "running" && dead["agentRunning"] == false)
            #expect(
                issues(noAgent).contains(
                    "\(killedAgent)-leader: agent command `sh` is not running -> `ccorc stop \(killedAgent) && ccorc resume \(killedAgent)`"
                ))
            #expect(
                try leaderWindow(report)?["present"] == false,
                "the agent's shell ended with it: \(noAgent.serialized())")

            // The fixes named work.
            await #expect(try bed.ccorc("resume", killedTmux, "--detach").status == 0)
            await #expect(try health(bed, killedTmux).status == 0)
        }
    }

    @Test func outOfMemoryIsBroken() async throws {
        try await SessionTestbed.with("hoom") { bed in
            let name = bed.prefix + "-oom"
            await #expect(
                try bed.ccorc("launch", name, "--detach", "--agents", "leader", "--container-memory", "16m").status == 0
            )
            // A process that doubles a shell variable until the 16 MiB limit stops it.
            let hog = try await bed.ccdk("exec", name + "-leader", "--", "sh", "-c", "x=a; while :; do x=$x$x; done")
            #expect(hog.status == 137, "killed by the kernel: \(hog.stderr)")
            let (status, report) = try await health(bed, name)
            let oom = try session(report, name)
            #expect(status == 1)
            #expect(oom["verdict"] == "broken")
            let leader = try #require(oom["containers"]?.array?.first)
            #expect((leader["oomKills"]?.int ?? 0) >= 1)
            #expect(leader["memoryLimit"]?.int == 16 << 20)
            #expect(
                issues(oom).contains {
                    $0.hasPrefix("\(name)-leader: the kernel killed") && $0.contains("memory limit of 16MiB")
                        && $0.contains("ccdk update \(name)-leader --memory")
                })
        }
    }

    @Test func unknownNamesAndWatch() async throws {
        try await SessionTestbed.with("hwatch") { bed in
            let missing = try await bed.ccorc("health", bed.prefix + "-nope")
            #expect(
                missing.status == 1
                    && missing.stderr == "ccorc: session \(bed.prefix)-nope not found (see `ccorc list`)\n")
            await #expect(try bed.ccorc("health").status != 0, "nothing to check")

            let name = bed.prefix + "-w"
            await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader").status == 0)
            try await waitUntilHealthy(bed, name)
            // --watch on a pipe: one JSON report per line, redrawn at the interval, until stopped.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Products.directory + "/ccorc")
            process.arguments = ["health", "--json", "--watch", "0.2", name]
            process.environment = ProcessInfo.processInfo.environment.merging(bed.environment) { $1 }
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            // Three reports, however long a loaded machine takes for them (at most 20 s).
            let lines = await readLines(output.fileHandleForReading.fileDescriptor, count: 3, timeout: 20)
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            #expect(lines.count == 3, "\(lines.count) reports in 20 s at 0.2 s")
            #expect(
                try lines.allSatisfy { try JSONValue.parse(String($0))["verdict"] == "healthy" },
                "\(lines.joined(separator: "\n"))")
        }
    }

    @Test func watchChecksOnChangeOnly() async throws {
        try await SessionTestbed.with("hpace") { bed in
            let name = bed.prefix + "-p"
            await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader,writer").status == 0)
            try await waitUntilHealthy(bed, name)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Products.directory + "/ccorc")
            process.arguments = ["health", "--json", "--watch", name]
            process.environment = ProcessInfo.processInfo.environment.merging(bed.environment) { $1 }
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
            }
            let descriptor = output.fileHandleForReading.fileDescriptor
            let first = await readLines(descriptor, count: 1, timeout: 20)
            #expect(first.count == 1, "the first report")
            // A tmux change elsewhere (a session of its own on the testbed's server) is no change
            // of this session: no check, no report, however long nothing happens.
            let other = Process()
            other.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            other.arguments = [
                "tmux", "-L", bed.tmuxName, "new-session", "-d", "-s", bed.prefix + "-other", "sleep 60",
            ]
            try other.run()
            other.waitUntilExit()
            let quiet = await readLines(descriptor, count: 100, timeout: 3)
            #expect(quiet.isEmpty, "\(quiet.count) reports in 3 s with nothing changed")
            // A container stopped behind ccorc's back: a report follows, from the engine's event.
            _ = try await bed.engine.stopContainer(name + "-writer", timeout: 0)
            let after = await readLines(descriptor, count: 1, timeout: 10)
            #expect(after.count == 1, "a report after the container stopped")
            let verdict = try after.first.map { try JSONValue.parse(String($0))["verdict"]?.string }
            #expect(verdict == "broken" || verdict == "degraded", "\(after)")
        }
    }
}
