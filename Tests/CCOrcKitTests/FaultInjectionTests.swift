import Foundation
import Testing

@testable import CCOrcKit

/// Reading `CCORC_FAIL_AT`, `CCORC_FAIL_STEP` and `CCORC_STEP_TRACE`, the testing hook that fails
/// session steps on purpose.
@Suite("fault injection")
struct FaultInjectionTests {
    @Test("unset or empty injects nothing")
    func none() throws {
        #expect(try FaultInjection(environment: [:]).actions.isEmpty)
        #expect(try FaultInjection(environment: ["CCORC_FAIL_AT": ""]).actions.isEmpty)
        try FaultInjection().check(.launchCommit)
    }

    @Test("points with and without an action")
    func points() throws {
        let faults = try FaultInjection(environment: [
            "CCORC_FAIL_AT": "launch.tmux-window, launch.commit:kill,launch.volumes:fail"
        ])
        #expect(faults.actions == [.launchTmuxWindow: .fail, .launchCommit: .kill, .launchVolumes: .fail])
        #expect(throws: SessionError.self) { try faults.check(.launchTmuxWindow) }
        try faults.check(.launchStart)
    }

    @Test("a misspelt point or action is refused, naming the known points")
    func refused() {
        #expect { try FaultInjection(environment: ["CCORC_FAIL_AT": "launch.comit"]) } throws: { error in
            (error as? SessionError)?.code == .invalidArgument
                && "\(error)".contains("known: launch.prepare-tmux, launch.volumes")
        }
        #expect { try FaultInjection(environment: ["CCORC_FAIL_AT": "launch.commit:explode"]) } throws: { error in
            "\(error)" == "CCORC_FAIL_AT: unknown action \"explode\" for launch.commit (fail, kill or interrupt)"
        }
    }

    @Test("CCORC_FAIL_STEP counts every side effect and fails the Nth, once")
    func counted() throws {
        let faults = try FaultInjection(environment: ["CCORC_FAIL_STEP": "3"])
        #expect(faults.failingStep == 3 && faults.stepAction == .fail)
        #expect(faults.failure(of: .engine, "GET /_ping") == nil)
        #expect(faults.failure(of: .registry, "claiming session a") == nil)
        let message = try #require(faults.failure(of: .tmux, "new-window -t =a:"))
        #expect(message == "fault injected at step 3, tmux new-window -t =a: (CCORC_FAIL_STEP)")
        #expect(faults.failure(of: .engine, "POST /containers/create") == nil, "only the Nth fails")
        #expect(try FaultInjection(environment: ["CCORC_FAIL_STEP": "7:kill"]).stepAction == .kill)
    }

    @Test("a step number that is not one is refused")
    func refusedStep() {
        for text in ["0", "x", "-2", "2:explode"] {
            #expect(throws: SessionError.self, "\(text)") { try FaultInjection(environment: ["CCORC_FAIL_STEP": text]) }
        }
    }

    @Test("CCORC_STEP_TRACE lists each step as it is taken")
    func trace() throws {
        let path = NSTemporaryDirectory() + "ccorc-trace-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let faults = try FaultInjection(environment: ["CCORC_STEP_TRACE": path])
        #expect(faults.failure(of: .engine, "GET /containers/json") == nil)
        #expect(faults.failure(of: .registry, "removing 1 session(s)") == nil)
        #expect(
            try String(contentsOfFile: path, encoding: .utf8)
                == "1 engine GET /containers/json\n2 registry removing 1 session(s)\n")
    }
}
