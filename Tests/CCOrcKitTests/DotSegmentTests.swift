import Foundation
import Testing

@testable import CCOrcKit

/// `.` and `..` as a name must not reach another endpoint: libcurl collapses them as dot
/// segments and the engine cleans `%2E%2E` the same way (it answers 301 to the collapsed path).
@Suite struct DotSegmentTests {
    /// A client that would fail with `.unreachable` if it sent anything.
    private func offlineClient() throws -> EngineClient {
        try EngineClient(host: EngineHost(socketPath: "/tmp/ccorc-no-engine-\(getpid()).sock"), apiVersion: "1.41")
    }

    @Test(arguments: [".", ".."])
    func aDotNameIsRefusedBeforeAnyRequest(_ name: String) async throws {
        let engine = try offlineClient()
        await #expect {
            try await engine.path("/containers/\(engine.pathSegment(name))/json", query: [], versioned: true)
        } throws: { error in
            (error as? EngineError)?.code == .notFound && "\(error)" == "No such container: \(name)"
        }
        await #expect { _ = try await engine.inspectContainer(name) } throws: { error in
            (error as? EngineError)?.code == .notFound && "\(error)" == "No such container: \(name)"
        }
        await #expect { _ = try await engine.inspectVolume(name) } throws: { error in
            (error as? EngineError)?.code == .notFound
        }
    }

    @Test func namesWithDotsInsideStillPass() async throws {
        let engine = try offlineClient()
        #expect(
            try await engine.path("/containers/\(engine.pathSegment("a.b"))/json", query: [], versioned: true)
                == "/v1.41/containers/a.b/json")
        #expect(
            try await engine.path("/containers/\(engine.pathSegment("..."))/json", query: [], versioned: true)
                == "/v1.41/containers/.../json")
    }
}
