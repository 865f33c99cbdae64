import Foundation
import Testing

@testable import CCOrcKit

/// How the driver and `ccdk` cope with an engine that misbehaves (see `FaultEngine`).
@Suite(.serialized) struct EngineFaultTests {
    /// The largest resident size, in KiB, of any child this process has waited for.
    private func largestChildKiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return usage.ru_maxrss
    }

    @Test func anEndlessReplyIsCutOffAtTheBufferLimit() async throws {
        let engine = try FaultEngine(.endlessContainerList)
        defer { engine.stop() }
        let started = Date()
        let result = try await Products.run("ccdk", ["list"], environment: engine.environment)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr.prefix(300))")
        #expect(result.stderr.contains("256 MiB"), "names the limit: \(result.stderr.prefix(300))")
        #expect(result.stderr.hasPrefix("ccdk: malformed reply from the Docker engine"))
        #expect(elapsed < 60, "gave up after \(elapsed) s")
        // The cap plus the process itself; without a cap the whole 1 GiB the engine sends is held.
        #expect(largestChildKiB() < 640 * 1024, "ccdk grew to \(largestChildKiB() / 1024) MiB")
    }

    @Test func anUnansweredExecStartTimesOut() async throws {
        let engine = try FaultEngine(.silentExecStart)
        defer { engine.stop() }
        let started = Date()
        // The outer bound only keeps a hang from stalling the suite; the driver's own is 30 s.
        let result = try await Products.run(
            "ccdk", ["exec", "fault", "--", "true"], environment: engine.environment,
            launcher: ["/usr/bin/timeout", "-s", "KILL", "50"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.signal == nil, "killed after \(elapsed) s: ccdk waited for ever")
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr.prefix(300))")
        #expect(result.stderr.contains("timed out"), "\(result.stderr.prefix(300))")
        #expect(elapsed < 45, "gave up after \(elapsed) s")
    }

    @Test func theLibraryBoundsTheUpgradeByItsSetupTimeout() async throws {
        let fault = try FaultEngine(.silentExecStart)
        defer { fault.stop() }
        let engine = try EngineClient(host: EngineHost(socketPath: fault.socketPath))
        let execID = try await engine.createExec("fault", ExecSpec(command: ["true"]))
        let started = Date()
        await #expect { _ = try await engine.startExec(execID, tty: false, setupTimeout: 0.5) } throws: { error in
            (error as? EngineError)?.transport?.code == .timedOut && "\(error)".contains("timed out after 0.5 s")
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
