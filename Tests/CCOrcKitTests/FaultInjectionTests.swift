@testable import CCOrcKit
import Testing

/// Reading `CCORC_FAIL_AT`, the testing hook that fails session steps on purpose.
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
        let faults = try FaultInjection(environment: ["CCORC_FAIL_AT": "launch.tmux-window, launch.commit:kill,launch.volumes:fail"])
        #expect(faults.actions == [.launchTmuxWindow: .fail, .launchCommit: .kill, .launchVolumes: .fail])
        #expect(throws: SessionError.self) { try faults.check(.launchTmuxWindow) }
        try faults.check(.launchStart)
    }

    @Test("a misspelt point or action is refused, naming the known points")
    func refused() {
        #expect { try FaultInjection(environment: ["CCORC_FAIL_AT": "launch.comit"]) } throws: { error in
            (error as? SessionError)?.code == .invalidArgument && "\(error)".contains("known: launch.prepare-tmux, launch.volumes")
        }
        #expect { try FaultInjection(environment: ["CCORC_FAIL_AT": "launch.commit:explode"]) } throws: { error in
            "\(error)" == "CCORC_FAIL_AT: unknown action \"explode\" for launch.commit (fail, kill or interrupt)"
        }
    }
}
