import Foundation
import Testing

@testable import CCOrcKit

/// `ccorc attach NAME` typed into a real tmux pane: from a client of ccorc's own tmux server it
/// moves that client, and from a pane of any other tmux server it attaches a nested client.
@Suite(.serialized) struct AttachIntegrationTests {
    /// The command line a user would type in a pane: ccorc's registry and tmux server, nothing else
    /// (the pane keeps the `TMUX` and `TMUX_PANE` its own server gave it).
    private func typedAttach(_ bed: SessionTestbed, _ name: String) -> String {
        let quote = { (text: String) in "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return
            "env CCORC_HOME=\(quote(bed.home)) CCORC_TMUX_SERVER=\(quote(bed.tmuxName)) \(quote(Products.directory + "/ccorc")) attach \(name); echo ccorc-exit-$?"
    }

    /// Types `line` into the first pane of `session` on `tmux`'s server and presses Enter.
    private func type(_ line: String, into session: String, on tmux: ScratchTmux) throws {
        try tmux.run("send-keys", "-t", "=\(session):", "-l", line)
        try tmux.run("send-keys", "-t", "=\(session):", "Enter")
    }

    /// The sessions of the terminal clients (control clients left out) on `tmux`'s server.
    private func clientSessions(_ tmux: ScratchTmux) throws -> [String] {
        try tmux.run("list-clients", "-F", "#{client_control_mode} #{client_session}")
            .split(separator: "\n").filter { $0.hasPrefix("0 ") }.map { String($0.dropFirst(2)) }
    }

    /// Polls `clientSessions` until it equals `expected`, for up to 10 seconds; returns the last reading.
    private func waitForClients(_ tmux: ScratchTmux, _ expected: [String]) throws -> [String] {
        let deadline = Date().addingTimeInterval(10)
        var sessions = try clientSessions(tmux)
        while sessions != expected && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            sessions = try clientSessions(tmux)
        }
        return sessions
    }

    @Test func fromAClientOfAnotherTmuxServerAttachesNested() async throws {
        try await SessionTestbed.with("attachother") { bed in
            let name = bed.prefix + "-a"
            let launch = try await bed.ccorc("launch", name, "--detach", "--agents", "leader")
            #expect(launch.status == 0, "\(launch.stderr)")
            let ccorcTmux = ScratchTmux(socketName: bed.tmuxName)
            #expect(try clientSessions(ccorcTmux).isEmpty)

            // The user's own tmux: another server, whose pane's shell has `TMUX` naming it.
            let outer = ScratchTmux()
            defer { outer.kill() }
            try outer.run("new-session", "-d", "-s", "user", "-x", "160", "-y", "40", "sh")
            try type(typedAttach(bed, name), into: "user", on: outer)

            let sessions = try waitForClients(ccorcTmux, [name])
            let screen = (try? outer.run("capture-pane", "-p", "-t", "=user:")) ?? ""
            #expect(
                sessions == [name],
                "a nested client on ccorc's server shows the session; the outer pane shows:\n\(screen)")
            #expect(
                try outer.run("display-message", "-p", "-t", "=user:", "#{pane_current_command}") == "tmux\n",
                "the nested client runs in the user's pane")
        }
    }

    @Test func fromAClientOfTheSameServerSwitchesThatClient() async throws {
        try await SessionTestbed.with("attachsame") { bed in
            let name = bed.prefix + "-a"
            let launch = try await bed.ccorc("launch", name, "--detach", "--agents", "leader")
            #expect(launch.status == 0, "\(launch.stderr)")
            // A session of the user's own on ccorc's server, with a real client on it: a terminal
            // (a pane of a driver server) running `tmux attach`.
            let ccorcTmux = ScratchTmux(socketName: bed.tmuxName)
            try ccorcTmux.run("new-session", "-d", "-s", "home", "-x", "160", "-y", "40", "sh")
            let terminal = ScratchTmux()
            defer { terminal.kill() }
            try terminal.run(
                "new-session", "-d", "-s", "term", "-x", "160", "-y", "40",
                "env -u TMUX /usr/bin/tmux -L '\(bed.tmuxName)' attach-session -t =home")
            #expect(try waitForClients(ccorcTmux, ["home"]) == ["home"], "the user's client is on its own session")

            try type(typedAttach(bed, name), into: "home", on: ccorcTmux)

            let sessions = try waitForClients(ccorcTmux, [name])
            let screen = (try? ccorcTmux.run("capture-pane", "-p", "-t", "=home:")) ?? ""
            #expect(
                sessions == [name],
                "the one client moved to the session, no second one was nested; the pane shows:\n\(screen)")
        }
    }
}
