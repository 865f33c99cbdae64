import EngineProxy
import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

/// Reads newline-terminated lines from a descriptor, keeping what it read past a line for the next.
final class LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    init(_ descriptor: Int32) { self.descriptor = descriptor }

    /// The next line, or nil when none came within `timeout` seconds (or at end of file).
    func next(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                defer { buffer.removeSubrange(...newline) }
                return String(decoding: buffer[..<newline], as: UTF8.self)
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(descriptor, &chunk, chunk.count)
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }
}

/// `ccorc watch --json` run by a test, its lines parsed as they come.
final class WatchProcess: Sendable {
    let process = Process()
    private let reader: Mutex<LineReader>
    private let output = Pipe()

    init(_ bed: SessionTestbed, _ arguments: [String], environment extra: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: Products.directory + "/ccorc")
        process.arguments = ["watch", "--json"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(bed.environment) { $1 }.merging(extra) {
            $1
        }
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        reader = Mutex(LineReader(output.fileHandleForReading.fileDescriptor))
    }

    /// The next line, parsed; nil when none came within `timeout` seconds. The wait is on a
    /// thread of its own (see `Products.run`).
    func next(timeout: Double = 20) async throws -> JSONValue? {
        try await onThreadOfItsOwn { try self.nextBlocking(timeout: timeout) }
    }

    /// Every line until none has come for `quiet` seconds (at most `limit` lines).
    func untilQuiet(_ quiet: Double = 2, limit: Int = 50) async throws -> [JSONValue] {
        try await onThreadOfItsOwn {
            var lines: [JSONValue] = []
            while lines.count < limit, let line = try self.nextBlocking(timeout: quiet) { lines.append(line) }
            return lines
        }
    }

    /// Every line up to and including the first that `predicate` accepts, waiting up to
    /// `timeout` seconds in all for it; without one, the lines read by then.
    func until(timeout: Double = 30, _ predicate: @escaping @Sendable (JSONValue) -> Bool) async throws -> [JSONValue] {
        try await onThreadOfItsOwn {
            let deadline = Date().addingTimeInterval(timeout)
            var lines: [JSONValue] = []
            while deadline.timeIntervalSinceNow > 0,
                let line = try self.nextBlocking(timeout: deadline.timeIntervalSinceNow)
            {
                lines.append(line)
                if predicate(line) { break }
            }
            return lines
        }
    }

    private func nextBlocking(timeout: Double) throws -> JSONValue? {
        try reader.withLock { $0.next(timeout: timeout) }.map { try JSONValue.parse(Array($0.utf8)) }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// `ccorc watch`: each change made behind ccorc's back, or by another ccorc process, reaches the
/// stream as exactly the lines it should, and a lost engine connection is resynchronised.
@Suite(.serialized) struct WatchIntegrationTests {
    private func waitUntilHealthy(_ bed: SessionTestbed, _ name: String) async throws {
        for _ in 0..<80 {
            let health = try await bed.ccorc("health", "--json", name)
            if health.status == 0,
                try JSONValue.parse(Array(health.stdout.utf8))["sessions"]?.array?.first?["verdict"] == "healthy"
            {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("\(name) never became healthy")
    }

    /// The session-changed lines of `lines`, failing the test on any other line.
    private func changes(_ lines: [JSONValue], of name: String) -> [JSONValue] {
        for line in lines where line["type"] != "session-changed" || line["session"]?["name"]?.string != name {
            Issue.record("unexpected line: \(line.serialized())")
        }
        return lines.filter { $0["type"] == "session-changed" }
    }

    private func agentStates(_ line: JSONValue) -> [String] {
        (line["session"]?["agents"]?.array ?? []).map { $0["state"]?.string ?? "?" }
    }

    private func changedMembers(_ line: JSONValue) -> Set<String> {
        Set(line["changed"]?.array?.compactMap(\.string) ?? [])
    }

    /// The watcher's last view of `name` agrees with `ccorc list --json`.
    private func expectAgreesWithList(_ bed: SessionTestbed, _ last: JSONValue?, _ name: String) async throws {
        let listed = try #require(try await bed.list().first { $0["name"]?.string == name })
        let watched = try #require(last?["session"])
        for member in ["condition", "running", "total", "tmux", "agents"] {
            #expect(
                watched[member] == listed[member],
                "\(member): watch \(watched.serialized()) list \(listed.serialized())")
        }
    }

    @Test func containersKilledStoppedAndRemovedBehindCcorcsBack() async throws {
        try await SessionTestbed.with("wcon") { bed in
            let name = bed.prefix + "-c"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            try await waitUntilHealthy(bed, name)
            let watch = try WatchProcess(bed, [name])
            defer { watch.stop() }
            let snapshot = try await #require(try watch.next())
            #expect(snapshot["type"] == "snapshot" && snapshot["sessions"]?.array?.count == 1)
            #expect(
                snapshot["sessions"]?.array?.first?["verdict"] == "healthy"
                    && snapshot["sessions"]?.array?.first?["running"] == 3)
            let settled = try await watch.untilQuiet(1)
            #expect(settled.isEmpty, "nothing happens, nothing is reported: \(settled.map { $0.serialized() })")

            // Killed: the container's line, and its window's (the agent shell in it ended).
            try await bed.engine.killContainer(name + "-leader")
            var lines = await changes(try watch.untilQuiet(), of: name)
            #expect(lines.count == 2, "\(lines.map { $0.serialized() })")
            let killed = lines.first { changedMembers($0).contains("agents") }
            #expect(killed.map(agentStates) == ["stopped", "running", "running"])
            #expect(killed?["session"]?["running"] == 2 && killed?["session"]?["verdict"] == "broken")
            #expect(
                killed?["session"]?["issues"]?.array?.contains {
                    $0["message"]?.string?.contains("exited with status 137") == true
                } == true)
            let closed = lines.first { changedMembers($0).contains("tmux") }
            #expect(closed?["session"]?["tmux"]?["windows"] == 2, "\(lines.map { $0.serialized() })")

            // Stopped: the same two lines, for the researcher.
            _ = try await bed.engine.stopContainer(name + "-researcher", timeout: 1)
            lines = await changes(try watch.untilQuiet(), of: name)
            #expect(lines.count == 2, "\(lines.map { $0.serialized() })")
            #expect(lines.contains { agentStates($0) == ["stopped", "stopped", "running"] })
            #expect(lines.contains { $0["session"]?["tmux"]?["windows"] == 1 })

            // Removed while running: it dies, then it is gone; its window closes, the last one,
            // and with it the tmux session.
            try await bed.engine.removeContainer(name + "-writer", force: true)
            lines = await changes(try watch.untilQuiet(), of: name)
            #expect(lines.count == 3, "\(lines.map { $0.serialized() })")
            #expect(lines.contains { agentStates($0) == ["stopped", "stopped", "stopped"] })
            let removed = lines.first { agentStates($0) == ["stopped", "stopped", "missing"] }
            #expect(removed?["session"]?["condition"] == "broken")
            #expect(removed?["session"]?["agents"]?.array?.last?["containerId"] == .null)
            #expect(lines.contains { $0["session"]?["tmux"] == .null })
            try await expectAgreesWithList(bed, lines.last, name)
        }
    }

    @Test func windowsAndTheTmuxSessionClosedBehindCcorcsBack() async throws {
        try await SessionTestbed.with("wtmx") { bed in
            let name = bed.prefix + "-t"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            try await waitUntilHealthy(bed, name)
            // A session of its own keeps the server up when the team's session is killed.
            let tmux = ScratchTmux(socketName: bed.tmuxName)
            _ = try tmux.run("new-session", "-d", "-s", bed.prefix + "-keeper", "sleep 600")
            let watch = try WatchProcess(bed, [name])
            defer { watch.stop() }
            await #expect(try watch.next()?["type"] == "snapshot")

            // A pane that dies and stays (remain-on-exit) sends no notification: tmux's own
            // once-a-second check of the watcher's subscription reports it.
            _ = try tmux.run("set-option", "-w", "-t", "=\(name):researcher", "remain-on-exit", "on")
            let pid = try tmux.run("display-message", "-p", "-t", "=\(name):researcher", "#{pane_pid}")
            #expect(kill(try #require(Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines))), SIGKILL) == 0)
            var lines = await changes(try watch.untilQuiet(3), of: name)
            #expect(lines.count == 1, "\(lines.map { $0.serialized() })")
            #expect(
                lines.first?["session"]?["tmux"]?["windows"] == 3 && lines.first?["session"]?["verdict"] == "broken")
            #expect(
                lines.first?["session"]?["issues"]?.array?.contains {
                    $0["subject"] == "window researcher" && $0["message"]?.string?.hasPrefix("pane is dead") == true
                } == true, "\(lines.map { $0.serialized() })")
            _ = try tmux.run("kill-window", "-t", "=\(name):researcher")
            lines = await changes(try watch.untilQuiet(), of: name)
            #expect(lines.count == 1 && lines.first?["session"]?["tmux"]?["windows"] == 2, "\(lines)")

            _ = try tmux.run("kill-window", "-t", "=\(name):writer")
            lines = await changes(try watch.untilQuiet(), of: name)
            #expect(lines.count == 1, "\(lines.map { $0.serialized() })")
            #expect(lines.first?["session"]?["tmux"]?["windows"] == 1 && lines.first?["session"]?["running"] == 3)
            #expect(lines.first?["session"]?["verdict"] == "broken")
            #expect(lines.first.map(changedMembers) == ["tmux", "issues"])

            _ = try tmux.run("kill-session", "-t", "=\(name)")
            let all = try await watch.untilQuiet()
            // The watcher's own control client may have been attached to that session: then it
            // reconnects to the keeper's and says so, once.
            let resyncs = all.filter { $0["type"] == "resync" }
            #expect(resyncs.count <= 1 && resyncs.allSatisfy { $0["source"] == "tmux" }, "\(all)")
            lines = changes(all.filter { $0["type"] != "resync" }, of: name)
            #expect(lines.count == 1, "\(lines.map { $0.serialized() })")
            #expect(lines.first?["session"]?["tmux"] == .null)
            #expect(lines.first?["session"]?["condition"] == "partlyRunning")
            try await expectAgreesWithList(bed, lines.last, name)
        }
    }

    @Test func aSessionLaunchedAndCleanedUpByAnotherProcess() async throws {
        try await SessionTestbed.with("wext") { bed in
            let name = bed.prefix + "-e"
            let watch = try WatchProcess(bed, [])
            defer { watch.stop() }
            let snapshot = try await #require(try watch.next())
            #expect(snapshot["type"] == "snapshot" && snapshot["sessions"]?.array?.isEmpty == true)
            // The same changes in words, one line each, from a watcher without --json.
            let words = Process()
            words.executableURL = URL(fileURLWithPath: Products.directory + "/ccorc")
            words.arguments = ["watch"]
            words.environment = ProcessInfo.processInfo.environment.merging(bed.environment) { $1 }
            let wordsOutput = Pipe()
            words.standardOutput = wordsOutput
            try words.run()
            defer {
                if words.isRunning { words.terminate() }
                words.waitUntilExit()
            }
            let wordsReader = LineReader(wordsOutput.fileHandleForReading.fileDescriptor)
            #expect(wordsReader.next(timeout: 20)?.hasSuffix(" watching 0 sessions") == true)

            await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader").status == 0)
            var lines = try await watch.untilQuiet()
            #expect(lines.first?["type"] == "session-added" && lines.first?["session"]?["name"]?.string == name)
            #expect(lines.dropFirst().allSatisfy { $0["type"] == "session-changed" }, "\(lines)")
            #expect(lines.allSatisfy { ($0["session"]?["name"]?.string) == name })
            let launched = lines.last?["session"]
            #expect(launched?["condition"] == "running" && launched?["running"] == 1, "\(lines)")
            #expect(launched?["status"] == "ready")

            await #expect(try bed.ccorc("cleanup", "--remove", name, "--yes").status == 0)
            lines = try await watch.untilQuiet()
            #expect(lines.last?["type"] == "session-removed" && lines.last?["name"]?.string == name, "\(lines)")
            #expect(lines.filter { $0["type"] == "session-removed" }.count == 1)
            #expect(lines.dropLast().allSatisfy { $0["type"] == "session-changed" }, "\(lines)")
            var said: [String] = []
            while let line = wordsReader.next(timeout: 1) { said.append(line) }
            // `HH:MM:SS NAME added: …`, `HH:MM:SS NAME changed: …`, …, `HH:MM:SS NAME removed`.
            #expect(said.first?.dropFirst(9).hasPrefix("\(name) added: launching") == true, "\(said)")
            #expect(
                said.contains { $0.contains("\(name) changed: condition ") && $0.contains(" → running") }, "\(said)")
            #expect(said.last?.dropFirst(9) == "\(name) removed", "\(said)")
        }
    }

    @Test func aDroppedEventsConnectionIsResynchronised() async throws {
        try await SessionTestbed.with("wsync") { bed in
            let name = bed.prefix + "-r"
            await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader,writer").status == 0)
            try await waitUntilHealthy(bed, name)
            let proxy = try EngineProxy(upstream: bed.engine.host.socketPath!)
            defer { proxy.stop() }
            let watch = try WatchProcess(bed, [name], environment: ["DOCKER_HOST": "unix://" + proxy.socketPath])
            defer { watch.stop() }
            await #expect(try watch.next()?["type"] == "snapshot")
            await #expect(try watch.untilQuiet(1).isEmpty)
            let idle = proxy.traffic().requests.count

            // The engine goes away; while it is away a container stops, which no event reports.
            proxy.dropConnections(refusing: true)
            _ = try await bed.engine.stopContainer(name + "-leader", timeout: 1)
            try await Task.sleep(for: .seconds(1))
            proxy.refusing = false
            // The watcher lists again at its next try (at most 2 s apart), however late that is.
            let lines = try await watch.until { $0["type"] == "resync" } + watch.untilQuiet()
            let resyncs = lines.filter { $0["type"] == "resync" }
            #expect(resyncs.count == 1 && resyncs.first?["source"] == "engine", "\(lines)")
            // After the resync, the state is right: the leader is stopped (its window's line may come first).
            let afterResync = lines.drop { $0["type"] != "resync" }.dropFirst()
            #expect(afterResync.contains { agentStates($0) == ["stopped", "running"] }, "\(lines)")
            try await expectAgreesWithList(bed, changes(lines.filter { $0["type"] != "resync" }, of: name).last, name)

            // And the events are followed again. (The leader starts again rather than the writer
            // stopping: that would close the session's last window, and with it the tmux session
            // the watcher's control client is attached to, a tmux change this test is not about.)
            _ = try await bed.engine.startContainer(name + "-leader")
            let after = await changes(try watch.untilQuiet(), of: name)
            #expect(after.contains { agentStates($0) == ["running", "running"] }, "\(after)")
            #expect(idle >= 3, "the snapshot's lists and two events connections went through the proxy")
        }
    }

    @Test func anEngineRestartIsResynchronised() async throws {
        try await SessionTestbed.with("wboot") { bed in
            try await ExtraEngine.with { extra, engine in
                let environment = ["DOCKER_HOST": extra.dockerHost]
                let name = bed.prefix + "-b"
                let launch = try await bed.ccorc(
                    environment: environment, "launch", name, "--detach", "--agents", "leader")
                #expect(launch.status == 0, "\(launch.stderr)")
                let watch = try WatchProcess(bed, [name], environment: environment)
                defer { watch.stop() }
                let snapshot = try await #require(try watch.next())
                #expect(snapshot["sessions"]?.array?.first?["running"] == 1)
                _ = try await watch.untilQuiet(1)

                // The engine stops (and its containers with it), then starts again.
                try await extra.restart()
                var lines: [JSONValue] = []
                while let line = try await watch.next(timeout: 60) {
                    lines.append(line)
                    if line["type"] == "resync" { break }
                }
                await lines += try watch.untilQuiet()
                let resyncs = lines.filter { $0["type"] == "resync" }
                #expect(resyncs.count == 1 && resyncs.first?["source"] == "engine", "\(lines)")
                // Whatever came before the resync (the window closing), the state after it is the
                // engine's: the container stopped with its engine.
                let last = changes(lines.filter { $0["type"] != "resync" }, of: name).last
                #expect(last.map(agentStates) == ["stopped"], "\(lines)")
                let listed = try await bed.ccorc(environment: environment, "list", "--json")
                let session = try JSONValue.parse(Array(listed.stdout.utf8))["sessions"]?.array?.first
                for member in ["condition", "running", "agents", "tmux"] {
                    #expect(last?["session"]?[member] == session?[member], "\(member)")
                }
                #expect(try await engine.imageExists(TestEngine.image), "the engine kept its data root")
            }
        }
    }

    @Test func nothingIsAskedOfTheEngineWhileNothingHappens() async throws {
        try await SessionTestbed.with("widle") { bed in
            let name = bed.prefix + "-i"
            await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader").status == 0)
            let proxy = try EngineProxy(upstream: bed.engine.host.socketPath!)
            defer { proxy.stop() }
            let watch = try WatchProcess(bed, [], environment: ["DOCKER_HOST": "unix://" + proxy.socketPath])
            defer { watch.stop() }
            await #expect(try watch.next()?["type"] == "snapshot")
            _ = try await watch.untilQuiet(1)
            let before = proxy.traffic().requests
            // Three seconds idle: three registry checks, no request.
            await #expect(try watch.untilQuiet(3).isEmpty)
            let after = proxy.traffic().requests
            #expect(after.count == before.count, "\(after.dropFirst(before.count).map(\.path))")
            // The snapshot: the API version, two lists, two events requests that stay open.
            let paths = after.map(\.path)
            #expect(paths.filter { $0.contains("/events") }.count == 2, "\(paths)")
            #expect(paths.filter { $0.contains("/containers/json") }.count == 1, "\(paths)")
            #expect(paths.filter { $0.contains("/volumes") }.count == 1, "\(paths)")
        }
    }

    @Test func badInputIsOneLineAndANonZeroExit() async throws {
        try await SessionTestbed.with("wbad") { bed in
            let missing = try await bed.ccorc("watch", bed.prefix + "-nope")
            #expect(
                missing.status == 1
                    && missing.stderr == "ccorc: session \(bed.prefix)-nope not found (see `ccorc list`)\n")
            let both = try await bed.ccorc("watch", "a", "--pattern", "b*")
            #expect(both.status != 0 && both.stderr.contains("not both"))
            let pattern = try await bed.ccorc("watch", "--pattern", "[ab")
            #expect(pattern.status != 0 && pattern.stderr.hasPrefix("ccorc: invalid --pattern"), "\(pattern.stderr)")
            let engine = try await bed.ccorc(environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"], "watch")
            #expect(engine.status != 0 && engine.stdout.isEmpty, "\(engine.stdout)")
            #expect(
                engine.stderr.hasPrefix("ccorc: ") && engine.stderr.filter { $0 == "\n" }.count == 1, "\(engine.stderr)"
            )
        }
    }
}

/// `ccorc top` in a pane of a scratch tmux server, driven by send-keys and read by capture-pane,
/// as a person at a terminal would use it.
@Suite(.serialized) struct TopIntegrationTests {
    /// `env VARIABLES ccorc top`, as a pane's command.
    private func topCommand(_ bed: SessionTestbed, then: String = "") -> String {
        let variables = bed.environment.filter { $0.key != "TMUX" }.map { "\($0.key)='\($0.value)'" }
            .sorted().joined(separator: " ")
        return "env \(variables) \(Products.directory)/ccorc top" + then
    }

    @Test func filterAttachAndQuitLeaveTheTerminalAsItWas() async throws {
        try await SessionTestbed.with("top") { bed in
            let first = bed.prefix + "-alpha"
            let second = bed.prefix + "-beta"
            for name in [first, second] {
                await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader").status == 0)
            }
            let terminal = ScratchTmux(socketName: bed.prefix + "-term")
            defer { terminal.kill() }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(bed.prefix + "-stty").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }

            // Quit: the terminal's modes and screen as before. `after` appears only once written
            // whole (the shell creates a redirect's file before stty writes to it).
            let quitting = topCommand(
                bed,
                then: "; stty -g > \(directory)/after.part && mv \(directory)/after.part \(directory)/after; sleep 600")
            try terminal.run(
                "new-session", "-d", "-s", "quit", "-x", "120", "-y", "30",
                "stty -g > \(directory)/before; \(quitting)")
            var screen = try await terminal.waitForScreen("=quit:") { $0.contains("ccorc top: 2 sessions") }
            #expect(screen.contains(first) && screen.contains(second), "\(screen)")
            #expect(try terminal.run("display-message", "-p", "-t", "=quit:", "#{alternate_on}") == "1\n")
            try terminal.run("send-keys", "-t", "=quit:", "q")
            _ = try await terminal.waitForScreen("=quit:") { _ in
                FileManager.default.fileExists(atPath: "\(directory)/after")
            }
            let before = try String(contentsOfFile: "\(directory)/before", encoding: .utf8)
            let after = try String(contentsOfFile: "\(directory)/after", encoding: .utf8)
            #expect(!before.isEmpty && before == after, "stty before \(before), after \(after)")
            #expect(try terminal.run("display-message", "-p", "-t", "=quit:", "#{alternate_on}") == "0\n")
            #expect(try terminal.run("display-message", "-p", "-t", "=quit:", "#{cursor_flag}") == "1\n")

            // Filter, then attach: Enter hands the terminal to `tmux attach` of that session.
            try terminal.run("new-session", "-d", "-s", "attach", "-x", "120", "-y", "30", topCommand(bed))
            screen = try await terminal.waitForScreen("=attach:") { $0.contains("ccorc top: 2 sessions") }
            try terminal.run("send-keys", "-t", "=attach:", "/", "beta", "Enter")
            screen = try await terminal.waitForScreen("=attach:") { $0.contains("1 shown") }
            #expect(screen.contains("> \(second)") && !screen.contains(first), "\(screen)")
            try terminal.run("send-keys", "-t", "=attach:", "Enter")
            let clients = ScratchTmux(socketName: bed.tmuxName)
            var attachedTo = ""
            for _ in 0..<100 where !attachedTo.contains(second) {
                try await Task.sleep(for: .milliseconds(100))
                attachedTo = (try? clients.run("list-clients", "-F", "#{client_control_mode} #{client_session}")) ?? ""
            }
            #expect(attachedTo.split(separator: "\n").contains("0 \(second)"), "\(attachedTo)")
            // The pane now shows tmux's own status line for that session, not top.
            screen = try await terminal.waitForScreen("=attach:") { $0.contains("[\(second)") }
            #expect(!screen.contains("ccorc top:"), "\(screen)")
        }
    }
}
