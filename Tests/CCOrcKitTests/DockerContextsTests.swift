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

    @Test func dockerHostTCPFormsAreParsed() throws {
        func parse(_ value: String, tls: EngineHost.TLS? = nil) throws -> EngineHost {
            try EngineHost(dockerHost: value, tls: tls)
        }
        #expect(try parse("tcp://127.0.0.1:2375").endpoint == .tcp(host: "127.0.0.1", port: 2375))
        #expect(try parse("tcp://engine.example:12345/").endpoint == .tcp(host: "engine.example", port: 12345))
        // No port: the docker CLI's defaults, 2375 plain and 2376 with TLS.
        #expect(try parse("tcp://box").endpoint == .tcp(host: "box", port: 2375))
        #expect(try parse("tcp://box", tls: EngineHost.TLS()).endpoint == .tcp(host: "box", port: 2376))
        #expect(try parse("tcp://[::1]:2376").endpoint == .tcp(host: "::1", port: 2376))
        #expect(try parse("tcp://[::1]:2376").description == "tcp://[::1]:2376")
        #expect(try parse("tcp://[fe80::1]").endpoint == .tcp(host: "fe80::1", port: 2375))
        let plain = try parse(" tcp://10.0.0.5:2375 ")
        #expect(plain.tls == nil && !plain.isLocal && plain.socketPath == nil)
        #expect(plain.description == "tcp://10.0.0.5:2375")
        #expect(plain.curlEndpoint.baseURL == "http://10.0.0.5:2375" && plain.curlEndpoint.unixSocket == nil)
        let secure = try parse("tcp://10.0.0.5:2376", tls: EngineHost.TLS(caFile: "/c/ca.pem"))
        #expect(secure.curlEndpoint.baseURL == "https://10.0.0.5:2376")
        #expect(secure.curlEndpoint.tls?.caFile == "/c/ca.pem" && secure.curlEndpoint.tls?.verify == true)
        let local = try parse("unix:///var/run/docker.sock")
        #expect(local.isLocal && local.description == "unix:///var/run/docker.sock" && local.tls == nil)
        // TLS settings on a Unix socket mean nothing and are dropped.
        #expect(try parse("unix:///x.sock", tls: EngineHost.TLS()).tls == nil)
        for malformed in [
            "tcp://", "tcp://:2375", "tcp://host:0", "tcp://host:65536", "tcp://host:port", "tcp://a:1:2",
            "tcp://[::1", "tcp://[::1]x", "tcp://user@host:2375", "tcp://host:2375/path",
        ] {
            let error = #expect(throws: EngineError.self, "\(malformed)") { try parse(malformed) }
            #expect(error?.code == .unsupportedHost)
            #expect(error?.message.hasPrefix("DOCKER_HOST=\(malformed): a tcp:// address is tcp://HOST:PORT") == true)
        }
    }

    @Test func dockerHostWithTLSVerifyTakesTheCertificatesOfDockerCertPath() throws {
        let certificates = FileManager.default.temporaryDirectory.appendingPathComponent("certs-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: certificates, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: certificates) }
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            try "PEM".write(toFile: certificates + "/" + file, atomically: true, encoding: .utf8)
        }
        let base = ["DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_CERT_PATH": certificates]
        // Without DOCKER_TLS_VERIFY (or DOCKER_TLS): plain HTTP, as the docker CLI does.
        #expect(try EngineHost.fromEnvironment(base).tls == nil)
        let verified = try EngineHost.fromEnvironment(base.merging(["DOCKER_TLS_VERIFY": "1"]) { $1 })
        #expect(
            verified.tls
                == EngineHost.TLS(
                    caFile: certificates + "/ca.pem", certificateFile: certificates + "/cert.pem",
                    keyFile: certificates + "/key.pem", verify: true))
        #expect(verified.endpoint == .tcp(host: "127.0.0.1", port: 2376) && verified.origin == nil)
        #expect(try EngineHost.fromEnvironment(base.merging(["DOCKER_TLS": "1"]) { $1 }).tls?.verify == false)
        // The default directory is the docker CLI's configuration directory.
        let home = try EngineHost.fromEnvironment([
            "DOCKER_HOST": "tcp://box:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CONFIG": certificates,
        ])
        #expect(home.tls?.caFile == certificates + "/ca.pem")
        // A certificate without its key names the missing file.
        try FileManager.default.removeItem(atPath: certificates + "/key.pem")
        let missing = #expect(throws: EngineError.self) {
            try EngineHost.fromEnvironment(base.merging(["DOCKER_TLS_VERIFY": "1"]) { $1 })
        }
        #expect(missing?.code == .tls)
        #expect(missing?.message.contains("\(certificates)/key.pem does not exist") == true)
        #expect(missing?.message.hasPrefix("DOCKER_HOST=tcp://127.0.0.1:2376") == true)
    }

    @Test func aTCPContextUsesItsTLSMaterial() throws {
        let directory = try configuration(current: "remote")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let host = try EngineHost.fromEnvironment(["DOCKER_CONFIG": directory])
        let material = directory + "/contexts/tls/aa11/docker"
        #expect(host.endpoint == .tcp(host: "10.0.0.5", port: 2376))
        #expect(
            host.tls
                == EngineHost.TLS(
                    caFile: material + "/ca.pem", certificateFile: material + "/cert.pem",
                    keyFile: material + "/key.pem",
                    verify: true))
        #expect(host.displayName == "docker context remote (tcp://10.0.0.5:2376)")
        let skip = try EngineHost(context: DockerContext(name: "loose", host: "tcp://h:1", skipTLSVerify: true))
        #expect(skip.tls == EngineHost.TLS(verify: false))
        let plain = try EngineHost(context: DockerContext(name: "plain", host: "tcp://h:1"))
        #expect(plain.tls == nil && plain.curlEndpoint.baseURL == "http://h:1")
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

    /// `DOCKER_HOST=/path` (no scheme) is a Unix socket for the default context too, as it is
    /// for `EngineHost(dockerHost:)`.
    @Test func aBarePathIsAUnixSocket() throws {
        let host = try EngineHost(context: DockerContexts.defaultContext(["DOCKER_HOST": "/run/other.sock"]))
        #expect(host.socketPath == "/run/other.sock" && host.isLocal && host.description == "unix:///run/other.sock")
    }
}
