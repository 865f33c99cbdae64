import Foundation
import Testing

@testable import CCOrcKit

/// An engine on `tcp://127.0.0.1:PORT` with mutual TLS (a private dockerd with certificates made
/// for the test), reached through the system's libcurl, which is loaded only then.
@Suite(.serialized) struct TLSEngineIntegrationTests {
    let environment = ["CCORC_NETWORK": "none", "CCORC_IMAGE": TestEngine.image]

    /// Whether this process has mapped the system's libcurl.so.4 (the bundled one is static).
    static func systemCurlMapped() throws -> Bool {
        // Read to the end: /proc files report a size of 0, which whole-file readers may trust.
        guard let maps = FileHandle(forReadingAtPath: "/proc/self/maps") else {
            throw TestFailure("cannot open /proc/self/maps")
        }
        defer { try? maps.close() }
        let text = String(decoding: maps.readDataToEndOfFile(), as: UTF8.self)
        guard text.contains("/libc.so.6") else { throw TestFailure("/proc/self/maps read without libc in it") }
        return text.contains("/libcurl.so.4")
    }

    /// First in the suite: no earlier test of this process may have talked TLS yet.
    @Test func aUnixSocketRequestLoadsNoSystemCurlATLSRequestDoes() async throws {
        try await ExtraEngine.with(tls: true) { extra, unixClient in
            _ = try await unixClient.listContainers(all: true)
            #expect(!(try Self.systemCurlMapped()), "a Unix-socket request mapped libcurl.so.4")
            let host = EngineHost(
                endpoint: .tcp(host: "127.0.0.1", port: extra.tlsPort!),
                tls: try .directory(extra.clientCertDirectory!, verify: true))
            #expect(host.description == extra.tcpAddress && !host.isLocal)
            let client = try EngineClient(host: host)
            _ = try await client.listContainers(all: true)
            #expect(try Self.systemCurlMapped(), "a TLS request did not go through libcurl.so.4")

            // The same for whole processes: the dynamic loader lists every library it opens.
            let unix = try await Products.run(
                "ccdk", ["ps"], environment: ["DOCKER_HOST": extra.dockerHost, "LD_DEBUG": "files"])
            #expect(unix.status == 0, "\(unix.stderr)")
            #expect(!unix.stderr.contains("libcurl.so.4"))
            let tls = try await Products.run(
                "ccdk", ["ps"], environment: extra.tlsEnvironment.merging(["LD_DEBUG": "files"]) { $1 })
            #expect(tls.status == 0)
            #expect(tls.stderr.contains("file=libcurl.so.4"))
        }
    }

    @Test func ccdkRunsAndExecsOverTLSFromTheEnvironment() async throws {
        try await ExtraEngine.with(tls: true) { extra, unixClient in
            let name = TestEngine.uniquePrefix("tls") + "-c"
            let env = environment.merging(extra.tlsEnvironment) { $1 }
            let run = try await Products.run("ccdk", ["run", "-d", name, "--", "sleep", "1000"], environment: env)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try await unixClient.inspectContainer(name).state.isUp)
            let exec = try await Products.run(
                "ccdk", ["exec", name, "--", "sh", "-c", "echo over-tls; echo to-stderr >&2"], environment: env)
            #expect(exec.status == 0, "\(exec.stderr)")
            #expect(exec.stdout == "over-tls\n")
            #expect(exec.stderr == "to-stderr\n")
            let failing = try await Products.run("ccdk", ["exec", name, "--", "sh", "-c", "exit 7"], environment: env)
            #expect(failing.status == 7)
            let ps = try await Products.run("ccdk", ["ps"], environment: env)
            #expect(ps.status == 0 && ps.stdout.contains(name), "\(ps.stderr)")
            await #expect(try Products.run("ccdk", ["rm", "-f", name], environment: env).status == 0)
            await #expect { _ = try await unixClient.inspectContainer(name) } throws: {
                ($0 as? EngineError)?.code == .notFound
            }
        }
    }

    /// A hijacked exec stream over TLS carries far more than one TLS record each way: `cat` echoes
    /// 1 MiB back while it is still being sent, and every byte must arrive without the reader
    /// waiting on a socket whose data OpenSSL has already taken.
    @Test func aHijackedExecCarriesAStreamBothWaysOverTLS() async throws {
        try await ExtraEngine.with(tls: true) { extra, unixClient in
            let name = TestEngine.uniquePrefix("tlsh") + "-c"
            _ = try await unixClient.createContainer(TestEngine.spec(name))
            _ = try await unixClient.startContainer(name)
            let client = try EngineClient(
                host: EngineHost(
                    endpoint: .tcp(host: "127.0.0.1", port: extra.tlsPort!),
                    tls: try .directory(extra.clientCertDirectory!, verify: true)))
            var spec = ExecSpec(command: ["cat"])
            spec.attachStdin = true
            let execID = try await client.createExec(name, spec)
            let connection = try await client.startExec(execID, tty: false)
            let input = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
            var sent = 0
            var output: [UInt8] = []
            var demultiplexer = StreamDemultiplexer(raw: false)
            var closed = false
            let deadline = ContinuousClock.now + .seconds(60)
            streaming: while ContinuousClock.now < deadline {
                if sent == input.count && !closed {
                    connection.closeWrite()
                    closed = true
                }
                let ready = connection.wait(terminal: -1, wantWrite: sent < input.count, timeoutMilliseconds: 1000)
                if ready.readable {
                    guard let chunk = try connection.receive() else { break streaming }
                    for frame in demultiplexer.feed(chunk) where frame.stream == .stdout { output += frame.payload }
                }
                if ready.writable && sent < input.count {
                    sent += try connection.sendAvailable(input[sent..<min(input.count, sent + 65_536)])
                }
            }
            #expect(sent == input.count)
            #expect(output.count == input.count)
            #expect(output == input)
            #expect(try await client.execExitCode(execID) == 0)

            // A burst followed by silence, read in pieces smaller than its TLS records: the
            // rest of each record, decrypted and held by OpenSSL, must be read without waiting
            // for the socket to become readable again (it will not for 30 s).
            let burstID = try await client.createExec(
                name, ExecSpec(command: ["sh", "-c", "head -c 300000 /dev/zero; sleep 30"]))
            let burst = try await client.startExec(burstID, tty: false)
            var burstOutput = 0
            var burstFrames = StreamDemultiplexer(raw: false)
            let burstDeadline = ContinuousClock.now + .seconds(10)
            while burstOutput < 300_000 && ContinuousClock.now < burstDeadline {
                guard burst.wait(terminal: -1, wantWrite: false, timeoutMilliseconds: 1000).readable else { continue }
                guard let chunk = try burst.receive(maximum: 512) else { break }
                for frame in burstFrames.feed(chunk) where frame.stream == .stdout {
                    burstOutput += frame.payload.count
                }
            }
            #expect(burstOutput == 300_000, "bytes held in libcurl were not read while the socket was quiet")

            // Removed here: a running container would hold the engine's shutdown for its stop timeout.
            try await client.removeContainer(name, force: true)
        }
    }

    @Test func aDockerContextWithTLSMaterialReachesTheEngine() async throws {
        try await ExtraEngine.with(tls: true) { extra, unixClient in
            let config = extra.directory + "/docker-config"
            let client = extra.clientCertDirectory!
            let otherCA = try Self.makeCA(in: extra.directory + "/other-ca")
            try Self.writeContext(
                config, id: "t1", name: "secure", host: extra.tcpAddress!,
                tls: [
                    "ca.pem": client + "/ca.pem", "cert.pem": client + "/cert.pem", "key.pem": client + "/key.pem",
                ])
            try Self.writeContext(
                config, id: "t2", name: "wrongca", host: extra.tcpAddress!,
                tls: [
                    "ca.pem": otherCA, "cert.pem": client + "/cert.pem", "key.pem": client + "/key.pem",
                ])
            try Self.writeContext(config, id: "t3", name: "plain", host: extra.tcpAddress!, tls: [:])
            let name = TestEngine.uniquePrefix("tlsx") + "-c"
            _ = try await unixClient.createContainer(TestEngine.spec(name))
            let base = environment.merging(["DOCKER_CONFIG": config, "DOCKER_HOST": ""]) { $1 }

            let secure = try await Products.run(
                "ccdk", ["ps"], environment: base.merging(["DOCKER_CONTEXT": "secure"]) { $1 })
            #expect(secure.status == 0, "\(secure.stderr)")
            #expect(secure.stdout.contains(name))

            let wrong = try await Products.run(
                "ccdk", ["ps"], environment: base.merging(["DOCKER_CONTEXT": "wrongca"]) { $1 })
            #expect(wrong.status != 0 && wrong.stdout.isEmpty)
            #expect(
                wrong.stderr.hasPrefix(
                    "ccdk: docker context wrongca (\(extra.tcpAddress!)): the engine's certificate is not trusted by \(config)/contexts/tls/t2/docker/ca.pem: "
                ), "\(wrong.stderr)")
            #expect(wrong.stderr.filter { $0 == "\n" }.count == 1, "\(wrong.stderr)")

            // Plain HTTP to a TLS port: the engine answers 400, which is taken for a hint.
            let plain = try await Products.run(
                "ccdk", ["ps"], environment: base.merging(["DOCKER_CONTEXT": "plain"]) { $1 })
            #expect(plain.status != 0 && plain.stdout.isEmpty)
            #expect(
                plain.stderr.hasPrefix(
                    "ccdk: docker context plain (\(extra.tcpAddress!)) answered plain HTTP with 400: it may want TLS"),
                "\(plain.stderr)")
            #expect(plain.stderr.filter { $0 == "\n" }.count == 1, "\(plain.stderr)")
        }
    }

    @Test func aWrongCAOrNoClientCertificateIsOneLineNamingTheEngine() async throws {
        try await ExtraEngine.with(tls: true) { extra, _ in
            let address = extra.tcpAddress!
            let client = extra.clientCertDirectory!
            // The right client certificate, a CA that did not sign the engine's.
            let wrongCA = extra.directory + "/wrong-ca"
            try FileManager.default.createDirectory(atPath: wrongCA, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: try Self.makeCA(in: extra.directory + "/other-ca"), toPath: wrongCA + "/ca.pem")
            try FileManager.default.copyItem(atPath: client + "/cert.pem", toPath: wrongCA + "/cert.pem")
            try FileManager.default.copyItem(atPath: client + "/key.pem", toPath: wrongCA + "/key.pem")
            let wrong = try await Products.run(
                "ccdk", ["ps"], environment: extra.tlsEnvironment.merging(["DOCKER_CERT_PATH": wrongCA]) { $1 })
            #expect(wrong.status != 0 && wrong.stdout.isEmpty)
            #expect(
                wrong.stderr.hasPrefix(
                    "ccdk: \(address): the engine's certificate is not trusted by \(wrongCA)/ca.pem: "),
                "\(wrong.stderr)")
            #expect(wrong.stderr.filter { $0 == "\n" }.count == 1, "\(wrong.stderr)")

            // The right CA, no client certificate: the engine refuses the connection.
            let caOnly = extra.directory + "/ca-only"
            try FileManager.default.createDirectory(atPath: caOnly, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: client + "/ca.pem", toPath: caOnly + "/ca.pem")
            let refused = try await Products.run(
                "ccdk", ["ps"], environment: extra.tlsEnvironment.merging(["DOCKER_CERT_PATH": caOnly]) { $1 })
            #expect(refused.status != 0 && refused.stdout.isEmpty)
            #expect(refused.stderr.hasPrefix("ccdk: \(address): "), "\(refused.stderr)")
            #expect(refused.stderr.contains("client certificate"), "\(refused.stderr)")
            #expect(refused.stderr.filter { $0 == "\n" }.count == 1, "\(refused.stderr)")

            // A key without its certificate: the missing file is named before anything is sent.
            let keyOnly = extra.directory + "/key-only"
            try FileManager.default.createDirectory(atPath: keyOnly, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: client + "/key.pem", toPath: keyOnly + "/key.pem")
            let missing = try await Products.run(
                "ccdk", ["ps"], environment: extra.tlsEnvironment.merging(["DOCKER_CERT_PATH": keyOnly]) { $1 })
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("\(keyOnly)/cert.pem does not exist"), "\(missing.stderr)")
            #expect(missing.stderr.filter { $0 == "\n" }.count == 1, "\(missing.stderr)")
        }
    }

    /// A self-signed CA certificate under `directory`; returns its path.
    static func makeCA(in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=not the engine's CA",
            "-keyout", directory + "/ca-key.pem", "-out", directory + "/ca.pem",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("openssl req -x509 failed") }
        return directory + "/ca.pem"
    }

    /// A docker CLI context: `contexts/meta/ID/meta.json` and its TLS files under
    /// `contexts/tls/ID/docker/` (name in the context -> file to copy).
    static func writeContext(_ config: String, id: String, name: String, host: String, tls: [String: String]) throws {
        let meta = "\(config)/contexts/meta/\(id)"
        try FileManager.default.createDirectory(atPath: meta, withIntermediateDirectories: true)
        try #"{"Name":"\#(name)","Metadata":{},"Endpoints":{"docker":{"Host":"\#(host)","SkipTLSVerify":false}}}"#
            .write(toFile: meta + "/meta.json", atomically: true, encoding: .utf8)
        guard !tls.isEmpty else { return }
        let material = "\(config)/contexts/tls/\(id)/docker"
        try FileManager.default.createDirectory(atPath: material, withIntermediateDirectories: true)
        for (file, source) in tls { try FileManager.default.copyItem(atPath: source, toPath: material + "/" + file) }
    }
}
