import Foundation
import Testing

@testable import CCOrcKit

/// The docker CLI's contexts, read from a configuration directory laid out as `docker context
/// create` lays it out.
struct DockerContextsTests {
    /// A configuration directory with contexts `remote` (tcp, TLS material), `rootless` (unix) and
    /// `far` (ssh), and `currentContext` when given.
    private func configuration(current: String? = nil) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ctx-\(UUID().uuidString)").path
        func write(_ path: String, _ text: String) throws {
            let full = directory + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try write(
            "contexts/meta/aa11/meta.json",
            #"{"Name":"remote","Metadata":{"Description":"the big box"},"Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376","SkipTLSVerify":false}}}"#
        )
        for file in ["ca.pem", "cert.pem", "key.pem"] { try write("contexts/tls/aa11/docker/\(file)", "PEM") }
        try write(
            "contexts/meta/bb22/meta.json",
            #"{"Name":"rootless","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock","SkipTLSVerify":false}}}"#
        )
        try write(
            "contexts/meta/cc33/meta.json",
            #"{"Name":"far","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://me@far","SkipTLSVerify":true}}}"#)
        if let current { try write("config.json", #"{"auths":{},"currentContext":"\#(current)"}"#) }
        return directory
    }

    @Test func everyContextIsReadWithItsTLSMaterial() throws {
        let directory = try configuration()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let contexts = try DockerContexts.all(["DOCKER_CONFIG": directory])
        #expect(contexts.map(\.name) == ["default", "far", "remote", "rootless"])
        #expect(contexts[0].host == "unix:///var/run/docker.sock" && contexts[0].tlsDirectory == nil)
        let remote = contexts[2]
        #expect(remote.host == "tcp://10.0.0.5:2376" && remote.description == "the big box")
        #expect(remote.tlsDirectory == directory + "/contexts/tls/aa11/docker" && !remote.skipTLSVerify)
        #expect(contexts[1].skipTLSVerify && contexts[1].tlsDirectory == nil && contexts[3].tlsDirectory == nil)
    }

    @Test func theCurrentContextIsChosenAsTheDockerCLIChoosesIt() throws {
        let directory = try configuration(current: "rootless")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var environment = ["DOCKER_CONFIG": directory]
        #expect(try DockerContexts.currentName(environment) == "rootless")
        #expect(try EngineHost.fromEnvironment(environment).socketPath == "/run/user/1000/docker.sock")
        environment["DOCKER_CONTEXT"] = "remote"
        #expect(try DockerContexts.currentName(environment) == "remote")
        // DOCKER_HOST wins over both: the default context at that address.
        environment["DOCKER_HOST"] = "unix:///tmp/engine.sock"
        #expect(try DockerContexts.currentName(environment) == "default")
        #expect(try EngineHost.fromEnvironment(environment).socketPath == "/tmp/engine.sock")
        #expect(try DockerContexts.currentName(["DOCKER_CONFIG": directory + "/nowhere"]) == "default")
    }

    @Test func endpointsThisBuildCannotReachAreOneClearError() throws {
        let directory = try configuration(current: "far")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ssh = #expect(throws: EngineError.self) { try EngineHost.fromEnvironment(["DOCKER_CONFIG": directory]) }
        #expect(ssh?.code == .unsupportedHost)
        #expect(ssh?.message.hasPrefix("docker context far: ssh:// endpoints (ssh://me@far) are not supported") == true)
        let missing = #expect(throws: EngineError.self) {
            try EngineHost.fromEnvironment(["DOCKER_CONFIG": directory, "DOCKER_CONTEXT": "nope"])
        }
        #expect(missing?.code == .notFound)
        #expect(missing?.message.contains("there are: default, far, remote, rootless") == true)
    }

    @Test func aConfigurationThatIsNotJSONIsNamed() throws {
        let directory = try configuration()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "{not json".write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        let error = #expect(throws: EngineError.self) { try DockerContexts.currentName(["DOCKER_CONFIG": directory]) }
        #expect(error?.message.hasPrefix("\(directory)/config.json is not JSON") == true)
    }

    @Test func theDefaultContextTakesTheTLSVariables() {
        let plain = DockerContexts.defaultContext(["DOCKER_HOST": "tcp://127.0.0.1:2376"])
        #expect(plain.host == "tcp://127.0.0.1:2376" && plain.tlsDirectory == nil)
        let verified = DockerContexts.defaultContext([
            "DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/certs",
        ])
        #expect(verified.tlsDirectory == "/certs")
        let home = DockerContexts.defaultContext(["DOCKER_TLS_VERIFY": "1", "HOME": "/home/me"])
        #expect(home.tlsDirectory == "/home/me/.docker")
    }
}
