import Foundation
import Glibc
import Testing

@testable import CCOrcKit

/// A private tmux server driven through its command line, to act as a person at a terminal.
struct ScratchTmux {
    var socketName = "ccorc-it-\(getpid())-\(UInt32.random(in: 0..<1_000_000))"

    /// Runs `tmux -L NAME ARGUMENTS` and returns its output.
    /// - Throws: `TestFailure` when tmux exits with a non-zero status.
    @discardableResult
    func run(_ arguments: String...) throws -> String {
        try run(arguments)
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        // Output goes through a file, since a server that `new-session` starts inherits the
        // descriptors it was given; see `tmuxSpawnWithCleanSignals` for why not Process.
        let path = "/tmp/\(socketName)-\(UInt32.random(in: 0..<1_000_000)).out"
        defer { unlink(path) }
        let pid = try tmuxSpawnWithCleanSignals(
            ["/usr/bin/tmux", "-L", socketName, "-f", "/dev/null"] + arguments, stdoutPath: path)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw TestFailure("tmux \(arguments.joined(separator: " ")) exited with wait status \(status)")
        }
        return output
    }

    /// Polls the pane until `predicate` holds for its text, for up to `seconds`; the last look
    /// comes after the deadline, however late the task got to run.
    func waitForScreen(_ target: String, seconds: Double = 10, _ predicate: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let screen = (try? run("capture-pane", "-p", "-t", target)) ?? ""
            if predicate(screen) { return screen }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return (try? run("capture-pane", "-p", "-t", target)) ?? ""
    }

    /// Ends the server and its clients. A control client whose ccorc was killed outright can
    /// hold tmux 3.3a's server up after `kill-server` (the server waits for it, and it for the
    /// server), so whatever is still there after two seconds is killed by pid.
    func kill() {
        let server = (try? run("display-message", "-p", "#{pid}")).flatMap {
            pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let clients = ((try? run("list-clients", "-F", "#{client_pid}")) ?? "").split(separator: "\n").compactMap {
            pid_t($0)
        }
        _ = try? run("kill-server")
        guard let server else { return }
        let deadline = Date().addingTimeInterval(2)
        while Glibc.kill(server, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        guard Glibc.kill(server, 0) == 0 else { return }
        for pid in clients + [server] { _ = Glibc.kill(pid, SIGKILL) }
    }
}

@Suite(.serialized) struct ExecIntegrationTests {
    func runningContainer(_ engine: EngineClient, _ prefix: String) async throws -> String {
        let name = prefix + "-box"
        _ = try await engine.createContainer(TestEngine.spec(name))
        try await engine.startContainer(name)
        return name
    }

    @Test func pipedInputAndSeparateStreams() async throws {
        try await TestEngine.isolated("exec") { engine, prefix in
            let name = try await runningContainer(engine, prefix)
            let cat = try await Products.run("ccdk", ["exec", name, "--", "cat"], input: Array("a\nb\n".utf8))
            #expect(cat.status == 0)
            #expect(cat.stdout == "a\nb\n")

            let streams = try await Products.run("ccdk", ["exec", name, "--", "sh", "-c", "echo out; echo err >&2"])
            #expect(streams.stdout == "out\n")
            #expect(streams.stderr == "err\n")

            let seven = try await Products.run("ccdk", ["exec", name, "--", "sh", "-c", "exit 7"])
            #expect(seven.status == 7)

        }
    }

    @Test func tenMebibytesPassByteExact() async throws {
        try await TestEngine.isolated("exec10") { engine, prefix in
            let name = try await runningContainer(engine, prefix)
            let input = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + ".in").path
            let output = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + ".out").path
            defer {
                try? FileManager.default.removeItem(atPath: input)
                try? FileManager.default.removeItem(atPath: output)
            }
            var bytes = [UInt8](repeating: 0, count: 10 << 20)
            for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 7) }
            #expect(FileManager.default.createFile(atPath: input, contents: Data(bytes)))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = [
                "-c", "\"$0\" exec \"$1\" -- cat < \"$2\" > \"$3\"", Products.directory + "/ccdk", name, input, output,
            ]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(FileManager.default.contents(atPath: output) == Data(bytes))
        }
    }

    @Test func stoppedAndMissingContainersNameTheFix() async throws {
        try await TestEngine.isolated("execerr") { engine, prefix in
            let missing = try await Products.run("ccdk", ["exec", prefix + "-nope", "--", "true"])
            #expect(missing.status == 1)
            #expect(
                missing.stderr
                    == "ccdk: no such container \(prefix)-nope (create it with `ccdk run -d \(prefix)-nope`)\n")
            let name = prefix + "-stopped"
            _ = try await engine.createContainer(TestEngine.spec(name))
            let stopped = try await Products.run("ccdk", ["shell", name])
            #expect(stopped.status == 1)
            #expect(stopped.stderr == "ccdk: container \(name) is not running (start it with `ccdk start \(name)`)\n")
        }
    }

    @Test func runAttachesAndRemovesTheContainer() async throws {
        try await TestEngine.isolated("run") { engine, prefix in
            let name = prefix + "-tmp"
            let result = try await Products.run(
                "ccdk", ["run", name, "--", "sh", "-c", "read line; echo got $line; exit 4"],
                input: Array("hello\n".utf8),
                environment: ["CCORC_NETWORK": "none", "CCORC_IMAGE": TestEngine.image])
            #expect(result.status == 4)
            #expect(result.stdout == "got hello\n")
            // AutoRemove happens just after the exit.
            var gone = false
            for _ in 0..<100 where !gone {
                gone = try await engine.listContainers(all: true, filters: ["name": ["^/" + name + "$"]]).isEmpty
                if !gone { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(gone)
        }
    }

    /// Runs `command(directory)` in a pane of a private tmux server, as a person at a terminal
    /// would, between two `stty -g` snapshots written to `directory`; `interact` types into the
    /// pane meanwhile. Returns the terminal modes before and after, and `directory/status` if the
    /// command wrote one.
    private func atATerminal(
        _ prefix: String, run command: (_ directory: String) -> String,
        interact: (ScratchTmux) async throws -> Void = { _ in }
    ) async throws -> (before: String, after: String, status: String?) {
        let tmux = ScratchTmux()
        defer { tmux.kill() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // `after` appears whole (written aside, then renamed), so its existence is the signal.
        let script =
            "stty -g > \(directory)/before; \(command(directory)); stty -g > \(directory)/after.tmp; mv \(directory)/after.tmp \(directory)/after; sleep 60"
        try tmux.run("new-session", "-d", "-s", "person", "-x", "100", "-y", "30", script)
        try await interact(tmux)
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: directory + "/after") && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        return (
            try String(contentsOfFile: directory + "/before", encoding: .utf8),
            try String(contentsOfFile: directory + "/after", encoding: .utf8),
            try? String(contentsOfFile: directory + "/status", encoding: .utf8)
        )
    }

    @Test func aPersonAtATerminal() async throws {
        try await TestEngine.isolated("tty") { engine, prefix in
            let name = try await runningContainer(engine, prefix)
            let terminal = try await atATerminal(
                prefix, run: { "\(Products.directory)/ccdk shell \(name); echo $? > \($0)/status" }
            ) { tmux in
                _ = try await tmux.waitForScreen("person") { $0.contains("#") }
                try tmux.run("send-keys", "-t", "person", "echo $((6*7))", "Enter")
                await #expect(try tmux.waitForScreen("person") { $0.contains("\n42") }.contains("\n42"))
                try tmux.run("send-keys", "-t", "person", "clear; stty size", "Enter")
                await #expect(try tmux.waitForScreen("person") { $0.contains("30 100") }.contains("30 100"))
                try tmux.run("resize-window", "-t", "person", "-x", "80", "-y", "20")
                // The new size travels tmux -> ccdk (SIGWINCH) -> engine resize -> the container's
                // tty: ask again until it has arrived.
                var resized = false
                for _ in 0..<20 where !resized {
                    try tmux.run("send-keys", "-t", "person", "clear; stty size", "Enter")
                    resized = try await tmux.waitForScreen("person", seconds: 0.5) { $0.contains("20 80") }.contains(
                        "20 80")
                }
                #expect(resized, "the container's terminal never saw the new size")
                try tmux.run("send-keys", "-t", "person", "exit 3", "Enter")
            }
            #expect(terminal.status == "3\n")
            #expect(
                !terminal.before.isEmpty && terminal.before == terminal.after, "the local terminal mode is restored")
        }
    }

    @Test func aClosedPipeLeavesTheTerminalAsItWas() async throws {
        try await TestEngine.isolated("pipe") { engine, prefix in
            let name = try await runningContainer(engine, prefix)
            // `head -1` leaves after one line; ccdk's next write to the pipe raises SIGPIPE.
            let terminal = try await atATerminal(
                prefix, run: { _ in "\(Products.directory)/ccdk exec -t -i \(name) -- yes | head -1" })
            #expect(
                !terminal.before.isEmpty && terminal.before == terminal.after, "the local terminal mode is restored")
        }
    }

    @Test func detachKeysLeaveTheProcessRunning() async throws {
        try await TestEngine.isolated("detach") { engine, prefix in
            let name = try await runningContainer(engine, prefix)
            let tmux = ScratchTmux()
            defer { tmux.kill() }
            let marker = prefix.replacingOccurrences(of: "-", with: "")
            let script =
                "\(Products.directory)/ccdk exec -t -i \(name) -- sh -c 'echo ready; exec sleep 4242\(marker.suffix(4))'; echo ccdk-ended=$?; sleep 60"
            try tmux.run("new-session", "-d", "-s", "person", "-x", "100", "-y", "30", script)
            _ = try await tmux.waitForScreen("person") { $0.contains("ready") }
            try tmux.run("send-keys", "-t", "person", "C-p", "C-q")
            let screen = try await tmux.waitForScreen("person") { $0.contains("ccdk-ended=0") }
            #expect(screen.contains("ccdk-ended=0"))
            let processes = try await engine.top(name)
            #expect(
                processes.processes.contains { $0.joined(separator: " ").contains("sleep 4242" + marker.suffix(4)) })
        }
    }

    @Test func detachKeySequencesParse() throws {
        #expect(try DetachKeys().bytes == [16, 17])
        #expect(try DetachKeys("ctrl-a,x").bytes == [1, UInt8(ascii: "x")])
        #expect(try DetachKeys("").bytes == [])
        #expect(throws: EngineError.self) { try DetachKeys("ctrl-1") }
        var matcher = DetachMatcher(sequence: [16, 17])
        #expect(matcher.filter([1, 16]) == .forward([1]))
        #expect(matcher.filter([2]) == .forward([16, 2]))
        #expect(matcher.filter([16]) == .forward([]))
        #expect(matcher.filter([17]) == .detach)
    }
}
