import Foundation
import Testing

@testable import CCOrcKit

/// The engine named by a docker context, as the docker CLI would choose it, reached by whole
/// `ccdk` and `ccorc` command lines.
struct DockerContextIntegrationTests {
    @Test func theContextTheEnvironmentNamesIsTheEngineUsed() async throws {
        try await SessionTestbed.with("ctx") { bed in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(bed.prefix + "-docker").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            for (id, name, host) in [
                ("a1", "here", "unix://" + bed.engine.host.socketPath!), ("b2", "far", "ssh://me@far.example"),
                ("c3", "gone", "unix:///nonexistent/docker.sock"),
            ] {
                let meta = "\(directory)/contexts/meta/\(id)"
                try FileManager.default.createDirectory(atPath: meta, withIntermediateDirectories: true)
                try
                    #"{"Name":"\#(name)","Metadata":{},"Endpoints":{"docker":{"Host":"\#(host)","SkipTLSVerify":false}}}"#
                    .write(toFile: meta + "/meta.json", atomically: true, encoding: .utf8)
            }
            try #"{"currentContext":"here"}"#.write(
                toFile: directory + "/config.json", atomically: true, encoding: .utf8)
            // DOCKER_HOST empty: the context decides.
            let base = ["DOCKER_CONFIG": directory, "DOCKER_HOST": ""]
            let here = try await bed.ccorc(environment: base, "list", "--json")
            #expect(here.status == 0, "\(here.stderr)")
            let name = bed.prefix + "-c"
            await #expect(
                try bed.ccorc(environment: base, "launch", name, "--detach", "--agents", "leader").status == 0)
            #expect(try await bed.engine.inspectContainer(name + "-leader").state.isUp)

            let far = try await bed.ccorc(environment: base.merging(["DOCKER_CONTEXT": "far"]) { $1 }, "list")
            #expect(far.status != 0 && far.stdout.isEmpty)
            #expect(
                far.stderr.hasPrefix(
                    "ccorc: docker context far: ssh:// endpoints (ssh://me@far.example) are not supported"),
                "\(far.stderr)")
            #expect(far.stderr.filter { $0 == "\n" }.count == 1)
            let gone = try await bed.ccdk(environment: base.merging(["DOCKER_CONTEXT": "gone"]) { $1 }, "list")
            #expect(gone.status != 0 && gone.stderr.contains("/nonexistent/docker.sock"), "\(gone.stderr)")
            let nope = try await bed.ccorc(environment: base.merging(["DOCKER_CONTEXT": "nope"]) { $1 }, "list")
            #expect(nope.status != 0 && nope.stderr.contains("no docker context named nope"), "\(nope.stderr)")
            await #expect(try bed.ccorc(environment: base, "cleanup", "--remove", name, "--yes").status == 0)
        }
    }
}
