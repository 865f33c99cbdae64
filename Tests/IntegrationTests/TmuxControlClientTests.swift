import CCOrcKit
import Foundation
import Testing

/// The control client against real tmux, each test on its own `-L ccorc-test-…` server.
@Suite("tmux control client", .serialized)
struct TmuxControlClientTests {
    @Test("with no server, queries answer no sessions and start nothing")
    func noServer() async throws {
        try await TmuxTestServer.with { test, client in
            #expect(try await client.listSessions().isEmpty)
            #expect(try await client.hasSession("anything") == false)
            await #expect(throws: TmuxError.self) { try await client.listPanes(session: "anything") }
            do {
                _ = try await client.run([TmuxCommandLine("list-sessions")])
                Issue.record("run without a server should throw")
            } catch let error as TmuxError {
                #expect(error.code == .serverNotRunning)
            }
            #expect(try await client.killSessions(["x"])["x"]??.code == .serverNotRunning)
            #expect(try test.isRunning() == false)
            #expect(FileManager.default.fileExists(atPath: test.server.socketPath()) == false)
        }
    }

    @Test("the first new session creates the server and no other session")
    func firstSessionCreatesServer() async throws {
        let testStarted = Date()
        try await TmuxTestServer.with { test, client in
            let session = try await client.newSession(TmuxNewSessionOptions(name: "first", windowName: "main"))
            #expect(session.name == "first")
            #expect(session.id.hasPrefix("$"))
            #expect(session.windows == 1)
            #expect(session.attached == 0)
            #expect(try test.sessionNames() == ["first"])

            let second = try await client.newSession(TmuxNewSessionOptions(name: "second"))
            #expect(second.attached == 0)
            #expect(Set(try test.sessionNames()) == ["first", "second"])

            let listed = try await client.listSessions()
            #expect(Set(listed.map(\.name)) == ["first", "second"])
            // tmux counts the control client; the client reports what a user would see.
            let raw = try test.tmux("list-sessions", "-F", "#{session_name} #{session_attached}").output
            #expect(raw.contains("first 1") || raw.contains("second 1"))
            #expect(listed.allSatisfy { $0.attached == 0 })
            // tmux keeps whole seconds: both sessions were made since this test began.
            #expect(
                listed.allSatisfy { $0.created >= testStarted.addingTimeInterval(-1) && $0.created <= Date() },
                "\(listed.map(\.created)) vs \(testStarted)")
            #expect(listed.allSatisfy { $0.activity >= testStarted.addingTimeInterval(-1) && $0.activity <= Date() })
            #expect(try await client.hasSession("first"))
            #expect(try await client.hasSession("firs") == false)  // no prefix matching
            await #expect(throws: TmuxError.self) { try await client.newSession(TmuxNewSessionOptions(name: "first")) }
        }
    }

    @Test("names tmux forbids are rejected before anything is sent")
    func invalidNames() async throws {
        try await TmuxTestServer.with { test, client in
            for name in ["a.b", "a:b", "", "line\nbreak", "tab\there", "$1", "a$b", "back\\slash"] {
                do {
                    _ = try await client.newSession(TmuxNewSessionOptions(name: name))
                    Issue.record("\(name.debugDescription) was accepted")
                } catch let error as TmuxError {
                    #expect(error.code == .invalidName)
                }
                await #expect(throws: TmuxError.self) { try await client.hasSession(name) }
            }
            #expect(try test.isRunning() == false)
        }
    }

    static let hostileNames = [
        "ends with;", "a b", "q'uote\"d", "semi;colon", "x; kill-server", "hash#{session_id}#S##",
        "~tilde", "t~ilde", "brace{ }", "-dash", "%percent", "%if", "#comment", "ünïcødé ✓", "'", "\"",
        "a=b", "-t", "*?[glob]",
    ]

    @Test("hostile session names round-trip exactly, through the start-up command and the pipe")
    func hostileNames() async throws {
        try await TmuxTestServer.with { test, client in
            for name in Self.hostileNames {
                let session = try await client.newSession(
                    TmuxNewSessionOptions(name: name, windowName: "w $HOME \\ " + name))
                #expect(session.name == name)
            }
            #expect(try test.sessionNames().sorted() == Self.hostileNames.sorted())
            #expect(try await client.listSessions().map(\.name).sorted() == Self.hostileNames.sorted())
            for name in Self.hostileNames {
                #expect(try await client.hasSession(name), "\(name)")
                let panes = try await client.listPanes(session: name)
                #expect(panes.map(\.windowName) == ["w $HOME \\ " + name])
            }
            for name in Self.hostileNames.dropLast(3) {
                try await client.killSession(name)
            }
            #expect(try test.sessionNames().sorted() == Self.hostileNames.suffix(3).sorted())
        }
    }

    @Test("hostile commands, directories and environment reach the process unchanged")
    func hostileCommands() async throws {
        try await TmuxTestServer.with { _, client in
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("ccorc tmux #{dir} $HOME ~ 'q' \"d\" ;x-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let payload = "a;b 'c' \"d\" $HOME ${X} #e \\f ~g\nsecond line\t tab; kill-server"
            let output = directory.appendingPathComponent("out")
            let script = "printf '%s|%s|%s' \"$1\" \"$PWD\" \"$HOSTILE\" > \"$2\"; exec sleep 100"
            _ = try await client.newSession(
                TmuxNewSessionOptions(
                    name: "cmd", command: ["sh", "-c", script, "sh", payload, output.path],
                    workingDirectory: directory.path, environment: ["HOSTILE": payload]))
            let expected = "\(payload)|\(directory.path)|\(payload)"
            func written(_ file: URL) async -> String? {
                _ = await tmuxEventually { (try? String(contentsOf: file, encoding: .utf8)) == expected }
                return try? String(contentsOf: file, encoding: .utf8)
            }
            #expect(await written(output) == expected)

            // The same through the pipe (the server exists now) and through new-window.
            let second = directory.appendingPathComponent("out2")
            _ = try await client.newSession(
                TmuxNewSessionOptions(
                    name: "cmd2", command: ["sh", "-c", script, "sh", payload, second.path],
                    workingDirectory: directory.path, environment: ["HOSTILE": payload]))
            let third = directory.appendingPathComponent("out3")
            let window = try await client.newWindow(
                session: "cmd2",
                TmuxNewWindowOptions(
                    name: "win #{x} ;y", command: ["sh", "-c", script, "sh", payload, third.path],
                    workingDirectory: directory.path, environment: ["HOSTILE": payload]))
            #expect(window.name == "win #{x} ;y")
            #expect(window.id.hasPrefix("@") && window.paneID.hasPrefix("%"))
            #expect(await written(second) == expected)
            #expect(await written(third) == expected)
            #expect(Set(try await client.listSessions().map(\.name)) == ["cmd", "cmd2"])
        }
    }

    @Test("a normal client's window size is unchanged, and no pane output reaches the pipe")
    func doesNotDisturbUser() async throws {
        try await TmuxTestServer.with { test, client in
            try test.tmux("new-session", "-d", "-s", "user", "-x", "80", "-y", "24")
            // A real client on a 132x41 terminal.
            var keyboard: [Int32] = [-1, -1]
            #expect(pipe(&keyboard) == 0)
            let user = try tmuxSpawnWithCleanSignals(
                ["script", "-qfc", "stty cols 132 rows 41; exec tmux -L \(test.name) attach -t =user", "/dev/null"],
                stdinDescriptor: keyboard[0])
            close(keyboard[0])
            defer {
                kill(user, SIGTERM)
                var status: Int32 = 0
                waitpid(user, &status, 0)
                close(keyboard[1])
            }
            func windowSize() throws -> String {
                try test.tmux("display-message", "-p", "-t", "=user:", "#{window_width}x#{window_height}").output
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(await tmuxEventually { (try? windowSize()) == "132x40" })
            let before = try windowSize()

            let recorder = TmuxNotificationRecorder(client.notifications)
            let sessions = try await client.listSessions()
            #expect(client.attachedSessionName == "user")
            #expect(sessions.first?.attached == 1)
            #expect(sessions.first?.attachedIncludingControlClients == 2)
            let flags = try test.tmux("list-clients", "-F", "#{client_control_mode} #{client_flags}").output
            #expect(flags.contains("1 ") && flags.contains("ignore-size") && flags.contains("no-output"))

            try await client.sendKeys(target: .session("user"), keys: ["echo visible-output-marker", "Enter"])
            #expect(
                await tmuxEventually {
                    (try? await client.capturePane(target: .session("user")))?.contains("visible-output-marker") == true
                })
            try await Task.sleep(for: .milliseconds(200))
            #expect(try windowSize() == before)
            #expect(!recorder.notifications.contains { if case .output = $0 { return true } else { return false } })
        }
    }

    @Test("killing the attached session switches away first; the last session going away is survived")
    func killAttachedSession() async throws {
        try await TmuxTestServer.with { test, client in
            _ = try await client.newSession(TmuxNewSessionOptions(name: "one"))
            _ = try await client.newSession(TmuxNewSessionOptions(name: "two"))
            #expect(client.attachedSessionName == "one")
            let recorder = TmuxNotificationRecorder(client.notifications)
            try await client.killSession("one")
            #expect(try test.sessionNames() == ["two"])
            #expect(try await client.listSessions().map(\.name) == ["two"])
            #expect(client.attachedSessionName == "two")
            #expect(
                !recorder.notifications.contains { if case .disconnected = $0 { return true } else { return false } })

            do {
                try await client.killSession("missing")
                Issue.record("killing a missing session should throw")
            } catch let error as TmuxError {
                #expect(error.code == .notFound)
            }

            try await client.killSession("two")  // the last one: the server exits with it
            #expect(await tmuxEventually { (try? test.isRunning()) == false })
            #expect(try await client.listSessions().isEmpty)
            #expect(try await client.hasSession("two") == false)
            // And the client can start over.
            _ = try await client.newSession(TmuxNewSessionOptions(name: "three"))
            #expect(try test.sessionNames() == ["three"])
        }
    }

    @Test("bulk kill in one round trip, including the attached session and a missing one")
    func bulkKill() async throws {
        try await TmuxTestServer.with { test, client in
            let names = (0..<20).map { "bulk-\($0)" }
            for name in names { _ = try await client.newSession(TmuxNewSessionOptions(name: name)) }
            _ = try await client.newSession(TmuxNewSessionOptions(name: "keep"))
            #expect(client.attachedSessionName == "bulk-0")
            let results = try await client.killSessions(names + ["missing", "bad.name"])
            #expect(names.allSatisfy { results[$0] != nil && results[$0]! == nil })
            #expect(results["missing"]??.code == .notFound)
            #expect(results["bad.name"]??.code == .invalidName)
            #expect(try test.sessionNames() == ["keep"])
            #expect(client.attachedSessionName == "keep")

            // All sessions at once: the server goes away and the client reports no sessions.
            for name in names.prefix(5) { _ = try await client.newSession(TmuxNewSessionOptions(name: name)) }
            let all = try await client.killSessions(["keep"] + names.prefix(5))
            #expect(all.values.allSatisfy { $0 == nil })
            #expect(await tmuxEventually { (try? test.isRunning()) == false })
            #expect(try await client.listSessions().isEmpty)
        }
    }

    @Test("list-panes reports pid, dead flag, exit status and command")
    func listPanes() async throws {
        try await TmuxTestServer.with { _, client in
            _ = try await client.newSession(TmuxNewSessionOptions(name: "keeper", command: ["sleep", "100"]))
            try await client.setOption("remain-on-exit", value: "on", scope: .window, global: true)
            _ = try await client.newSession(
                TmuxNewSessionOptions(name: "dies", windowName: "exit3", command: ["sh", "-c", "sleep 0.3; exit 3"]))
            let window = try await client.newWindow(
                session: "dies", TmuxNewWindowOptions(name: "sleeper", command: ["sleep", "100"]))
            let running = try await client.listPanes(session: "dies")
            #expect(running.count == 2)
            #expect(running.allSatisfy { $0.pid > 0 && $0.id.hasPrefix("%") })
            #expect(running.first { $0.windowName == "sleeper" }?.id == window.paneID)
            // The pane's process is tmux's own child until it has exec'd `sleep`: under load that
            // can outlast the first listing.
            #expect(
                await tmuxEventually {
                    (try? await client.listPanes(session: "dies"))?.first { $0.windowName == "sleeper" }?
                        .currentCommand == "sleep"
                })
            #expect(
                await tmuxEventually {
                    (try? await client.listPanes(session: "dies"))?.first { $0.windowName == "exit3" }?.isDead == true
                })
            // tmux marks the pane dead when the pty closes and records the status when it reaps
            // the child. tmux 3.3a sometimes misses the SIGCHLD (seen in about one run in four with
            // the tmux CLI alone: the child stays a zombie, pane_dead_status stays empty) and reaps
            // only at the next SIGCHLD, when it waits for every exited child. So short-lived
            // children exit here until it has reaped, and then the status is what tmux guarantees.
            var reaped = false
            for attempt in 0..<10 where !reaped {
                reaped = await tmuxEventually(timeout: 0.5) {
                    (try? await client.listPanes(session: "dies"))?.first { $0.windowName == "exit3" }?.exitStatus
                        != nil
                }
                if !reaped {
                    _ = try await client.newWindow(
                        session: "keeper", TmuxNewWindowOptions(name: "reaper\(attempt)", command: ["true"]))
                }
            }
            #expect(reaped, "tmux never reaped the pane's process")
            let dead = try await client.listPanes(session: "dies").first { $0.windowName == "exit3" }
            #expect(dead?.isDead == true)
            #expect(dead?.exitSignal == nil)
            #expect(dead?.exitStatus == 3)
            #expect(try await client.listPanes(session: "dies").first { $0.windowName == "sleeper" }?.isDead == false)
            do {
                _ = try await client.listPanes(session: "nope")
                Issue.record("listing panes of a missing session should throw")
            } catch let error as TmuxError {
                #expect(error.code == .notFound)
            }
        }
    }

    @Test("send-keys, capture-pane, display-message and set-option")
    func keysAndCapture() async throws {
        try await TmuxTestServer.with { _, client in
            _ = try await client.newSession(
                TmuxNewSessionOptions(name: "keys", command: ["cat"], width: 120, height: 30))
            let text = "a;b 'c' \"d\" $HOME #e ~f \\g {h}"
            try await client.sendKeys(target: .session("keys"), keys: [text], literal: true)
            try await client.sendKeys(target: .session("keys"), keys: ["Enter"])
            #expect(
                await tmuxEventually {
                    let lines =
                        (try? await client.capturePane(target: .session("keys")))?.split(separator: "\n").map(
                            String.init) ?? []
                    return lines.filter { $0 == text }.count == 2  // echoed by the terminal, then by cat
                })
            #expect(
                try await client.displayMessage(target: .session("keys"), format: "#{window_width}x#{window_height}")
                    == "120x30")
            try await client.setOption(
                "@ccorc-note", value: "x; kill-server #{session_name} $HOME", target: .session("keys"))
            #expect(
                try await client.displayMessage(target: .session("keys"), format: "#{@ccorc-note}")
                    == "x; kill-server #{session_name} $HOME")
            for missing: TmuxTarget in [.session("missing"), "%999", "@999"] {
                do {
                    let text = try await client.displayMessage(target: missing, format: "#{session_name}")
                    Issue.record("display-message for \(missing) answered \(text.debugDescription)")
                } catch let error as TmuxError {
                    #expect(error.code == .notFound)
                }
            }
            #expect(try await client.displayMessage(target: .session("keys"), format: "a:b\nc") == "a:b\nc")
            try await client.setOption("@pane-note", value: "-starts-with-dash", scope: .pane, target: .session("keys"))
            #expect(
                try await client.displayMessage(target: .session("keys"), format: "#{@pane-note}")
                    == "-starts-with-dash")
        }
    }

    @Test("hostile words survive tmux's own command parser exactly")
    func quotingRoundTrip() async throws {
        try await TmuxTestServer.with { _, client in
            _ = try await client.newSession(TmuxNewSessionOptions(name: "quote"))
            var words =
                Self.hostileNames + [
                    "", " ", "a\nb", "x\ny", "tab\tz", "\r", "\u{1B}[31mred", "$HOME", "${HOME}", "~", "~root", "\\",
                    "\\'",
                    "'\"'\"'", "#{session_name}", "#(echo hi)", "{", "}", "{ kill-server }", "a; kill-server",
                    "a \\; kill-server",
                    "%if #{1}", "\u{7F}", "ünï ✓", "-", "--", "-g",
                ]
            let alphabet = Array("ab ;#$~'\"\\{}%\n\t\u{1}é=-:.@/")
            for _ in 0..<200 {
                words.append(String((0..<Int.random(in: 1...10)).map { _ in alphabet.randomElement()! }))
            }
            var commands: [TmuxCommandLine] = []
            for (index, word) in words.enumerated() {
                commands.append(TmuxCommandLine("set-option", "-t", "=quote:", "@v\(index)", word))
                commands.append(TmuxCommandLine("show-options", "-v", "-t", "=quote:", "@v\(index)"))
            }
            let replies = try await client.run(commands)
            #expect(replies.allSatisfy { $0.succeeded })
            for (index, word) in words.enumerated() {
                #expect(
                    replies[2 * index + 1].text == word,
                    "\(word.debugDescription) came back as \(replies[2 * index + 1].text.debugDescription)")
            }
            #expect(try await client.listSessions().map(\.name) == ["quote"])
        }
    }

    @Test("pipelined commands are answered in order, failures at their own place")
    func pipelining() async throws {
        try await TmuxTestServer.with { _, client in
            _ = try await client.newSession(TmuxNewSessionOptions(name: "pipe"))
            var commands = (0..<100).map {
                TmuxCommandLine("display-message", "-p", "-t", "=pipe:", "n\($0) #{session_name}")
            }
            commands.insert(TmuxCommandLine("has-session", "-t", "=missing:"), at: 50)
            commands.insert(TmuxCommandLine("no-such-command"), at: 10)
            let replies = try await client.run(commands)
            #expect(replies.count == 102)
            #expect(replies[10].succeeded == false)
            #expect(replies[51].succeeded == false)
            #expect(replies[51].text.contains("can't find session"))
            let good = replies.enumerated().filter { $0.offset != 10 && $0.offset != 51 }.map(\.element)
            #expect(good.map(\.text) == (0..<100).map { "n\($0) pipe" })
            #expect(good.allSatisfy { $0.succeeded && $0.isFromThisClient })

            // Concurrent callers share the pipe.
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        (index, try await client.displayMessage(target: .session("pipe"), format: "c\(index)"))
                    }
                }
                for try await (index, text) in group { #expect(text == "c\(index)") }
            }
        }
    }

    @Test("notifications and subscriptions reach the caller")
    func notifications() async throws {
        try await TmuxTestServer.with { test, client in
            _ = try await client.newSession(TmuxNewSessionOptions(name: "watcher"))
            let recorder = TmuxNotificationRecorder(client.notifications)
            try test.tmux("new-session", "-d", "-s", "external", "sleep 100")
            #expect(await recorder.waitFor { $0 == .sessionsChanged } != nil)
            #expect(
                await recorder.waitFor { if case .unlinkedWindowAdd = $0 { return true } else { return false } } != nil)

            let panes = try await client.listPanes(session: "external")
            let before = recorder.notifications.count
            try test.tmux("kill-pane", "-t", panes[0].id)
            #expect(
                await recorder.waitFor { if case .unlinkedWindowClose = $0 { return true } else { return false } }
                    != nil)
            #expect(recorder.notifications.count > before)

            try await client.subscribe(name: "windows", format: "#{session_windows}")
            #expect(
                await recorder.waitFor {
                    if case .subscriptionChanged(let change) = $0 {
                        return change.name == "windows" && change.value == "1"
                    } else {
                        return false
                    }
                } != nil)
            _ = try await client.newWindow(session: "watcher")
            #expect(
                await recorder.waitFor {
                    if case .subscriptionChanged(let change) = $0 {
                        return change.name == "windows" && change.value == "2"
                    } else {
                        return false
                    }
                } != nil)
            #expect(await recorder.waitFor { if case .windowAdd = $0 { return true } else { return false } } != nil)
            try await client.unsubscribe(name: "windows")
        }
    }

    @Test("when tmux goes away the client reports it and the next call reconnects")
    func reconnects() async throws {
        try await TmuxTestServer.with { test, client in
            _ = try await client.newSession(TmuxNewSessionOptions(name: "mine"))
            try test.tmux("new-session", "-d", "-s", "other")
            let recorder = TmuxNotificationRecorder(client.notifications)
            // Someone else kills the session the control client sits on: tmux ends the client.
            try test.tmux("kill-session", "-t", "=mine")
            let lost = await recorder.waitFor { if case .disconnected = $0 { return true } else { return false } }
            #expect(lost != nil)
            #expect(recorder.notifications.contains { if case .exit = $0 { return true } else { return false } })
            #expect(try await client.listSessions().map(\.name) == ["other"])
            #expect(await recorder.waitFor { $0 == .reconnected } != nil)
            #expect(client.attachedSessionName == "other")

            // The server is killed from outside: reported, then "no sessions".
            try test.tmux("kill-server")
            #expect(
                await recorder.waitFor {
                    if case .disconnected(let error) = $0 {
                        return error.code == .connectionLost
                            && recorder.notifications.filter {
                                if case .disconnected = $0 { return true } else { return false }
                            }.count == 2
                    } else {
                        return false
                    }
                } != nil)
            #expect(try await client.listSessions().isEmpty)
        }
    }

    @Test("kill-server ends the server, and close() ends the streams")
    func killServerAndClose() async throws {
        try await TmuxTestServer.with { test, client in
            _ = try await client.newSession(TmuxNewSessionOptions(name: "a"))
            _ = try await client.newSession(TmuxNewSessionOptions(name: "b"))
            try await client.killServer()
            #expect(await tmuxEventually { (try? test.isRunning()) == false })
            #expect(try await client.listSessions().isEmpty)
            try await client.killServer()  // nothing to kill: no error

            let stream = client.notifications
            client.close()
            var count = 0
            for await _ in stream { count += 1 }
            #expect(count == 0)
            do {
                _ = try await client.listSessions()
                Issue.record("a closed client should throw")
            } catch let error as TmuxError {
                #expect(error.code == .closed)
            }
        }
    }
}
