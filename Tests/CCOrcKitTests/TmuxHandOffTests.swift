import Foundation
import Testing

@testable import CCOrcKit

/// Switch the current client only when it is on the session's server; attach everywhere else.
@Suite struct TmuxHandOffTests {
    private let ccorcSocket = "/tmp/tmux-0/ccorc"

    @Test func outsideTmuxAttaches() {
        #expect(TmuxHandOff.choose(tmuxVariable: nil, serverSocket: ccorcSocket) { _, _ in true } == .attach)
        #expect(TmuxHandOff.choose(tmuxVariable: "", serverSocket: ccorcSocket) { _, _ in true } == .attach)
    }

    @Test func aClientOfTheSameServerSwitches() {
        #expect(
            TmuxHandOff.choose(tmuxVariable: "/tmp/tmux-0/ccorc,4242,3", serverSocket: ccorcSocket, sameSocket: ==)
                == .switchClient)
    }

    @Test func aClientOfAnotherServerAttachesNested() {
        #expect(
            TmuxHandOff.choose(tmuxVariable: "/tmp/tmux-0/default,4242,0", serverSocket: ccorcSocket, sameSocket: ==)
                == .attach)
    }

    @Test func theSocketOfTMUXIsEverythingBeforeItsLastTwoFields() {
        #expect(TmuxHandOff.clientSocket(tmuxVariable: "/tmp/tmux-0/default,4242,0") == "/tmp/tmux-0/default")
        #expect(TmuxHandOff.clientSocket(tmuxVariable: "/srv/a,b/sock,4242,0") == "/srv/a,b/sock")
        #expect(TmuxHandOff.clientSocket(tmuxVariable: "/tmp/odd") == "/tmp/odd")
        #expect(TmuxHandOff.clientSocket(tmuxVariable: ",1,2") == nil)
        #expect(TmuxHandOff.clientSocket(tmuxVariable: nil) == nil)
    }

    @Test func twoSpellingsOfOneSocketAreOneServer() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ccorc-handoff-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/sock"
        let link = directory + "/link"
        #expect(FileManager.default.createFile(atPath: socket, contents: nil))
        #expect(symlink(socket, link) == 0)
        #expect(TmuxHandOff.choose(tmuxVariable: "\(socket),1,0", serverSocket: link) == .switchClient)
        #expect(TmuxHandOff.choose(tmuxVariable: "\(directory)/other,1,0", serverSocket: socket) == .attach)
        // Neither exists: the paths themselves decide.
        #expect(TmuxHandOff.sameFile(directory + "/gone", directory + "/gone"))
        #expect(!TmuxHandOff.sameFile(directory + "/gone", directory + "/also-gone"))
    }

    @Test func argumentsTargetTheSessionExactly() {
        #expect(TmuxHandOff.switchClient.arguments(session: "s1") == ["switch-client", "-t", "=s1:"])
        #expect(TmuxHandOff.attach.arguments(session: "s1") == ["attach-session", "-t", "=s1:"])
    }

    @Test func theDefaultServerInsideTmuxIsTheCurrentOne() {
        // ccorc without CCORC_TMUX_SERVER or CCORC_TMUX_SOCKET uses the server `$TMUX` names.
        let environment = ["TMUX": "/tmp/tmux-0/mine,4242,1"]
        let socket = TmuxServer.fromEnvironment(environment).socketPath(environment: environment)
        #expect(TmuxHandOff.choose(tmuxVariable: environment["TMUX"], serverSocket: socket) == .switchClient)
    }
}
