import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

/// The real engine the integration tests run against, and helpers to stay isolated on it.
enum TestEngine {
    /// The offline test image, made from the host's busybox-static through the import endpoint.
    static let image = "ccorc-busybox:latest"

    /// A client for the engine `make test` started; fails loudly when none answers.
    static func client() async throws -> EngineClient {
        let engine = try EngineClient()
        do {
            try await engine.ping()
        } catch {
            Issue.record(
                "no Docker engine answers at \(engine.host): \(error). `make test` starts one with scripts/engine.sh.")
            throw error
        }
        if !(try await engine.imageExists(image)) {
            _ = try await BusyboxImage.importImage(into: engine, reference: image)
        }
        return engine
    }

    /// A name prefix no other test run or user shares.
    static func uniquePrefix(_ tag: String) -> String {
        "ccorc-it-\(tag)-\(getpid())-\(UInt32.random(in: 0..<UInt32.max) % 100_000)"
    }

    /// A container spec for the test image that can never reach a network.
    static func spec(_ name: String, command: [String] = ["sleep", "1000"]) -> ContainerSpec {
        var spec = ContainerSpec(image: image, name: name)
        spec.command = command
        spec.networkMode = "none"
        spec.labels = [OwnershipLabels.managed: "true", "ccorc.test": name]
        return spec
    }

    /// Runs `body` with a client and a unique name prefix, then removes everything made under that
    /// prefix (containers, volumes, and images whose repository starts with it), whether `body`
    /// succeeded or not. What cannot be removed fails the test, by name.
    static func isolated<T>(_ tag: String, _ body: (EngineClient, String) async throws -> T) async throws -> T {
        let engine = try await client()
        let prefix = uniquePrefix(tag)
        do {
            let result = try await body(engine, prefix)
            await removeAll(engine, prefix: prefix)
            return result
        } catch {
            await removeAll(engine, prefix: prefix)
            throw error
        }
    }

    /// Force-removes every container, volume and image whose name starts with `prefix`, and
    /// records an issue naming whatever is still there afterwards.
    static func removeAll(_ engine: EngineClient, prefix: String) async {
        do {
            for _ in 0..<50 {
                let (containers, volumes, images) = try await leftovers(engine, prefix: prefix)
                if containers.isEmpty && volumes.isEmpty && images.isEmpty { return }
                // A removal the engine already has in progress answers 409 until it is done: go round again.
                _ = await forEachConcurrently(containers) {
                    try await engine.removeContainer($0, force: true, volumes: true)
                }
                _ = await forEachConcurrently(volumes) { try await engine.removeVolume($0, force: true) }
                _ = await forEachConcurrently(images) { try await engine.removeImage($0, force: true) }
                if try await leftovers(engine, prefix: prefix) == ([], [], []) { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            let left = try await leftovers(engine, prefix: prefix)
            Issue.record(
                "left on the engine after the test: containers \(left.containers), volumes \(left.volumes), images \(left.images)"
            )
        } catch {
            Issue.record("could not remove what the test made under \(prefix): \(error)")
        }
    }

    /// Containers (names), volumes and images (references) whose name starts with `prefix`.
    private static func leftovers(
        _ engine: EngineClient, prefix: String
    ) async throws -> (containers: [String], volumes: [String], images: [String]) {
        let containers = try await engine.listContainers(all: true, filters: ["name": ["^/" + prefix]]).map(\.name)
        let volumes = try await engine.listVolumes(filters: ["name": [prefix]]).map(\.name).filter {
            $0.hasPrefix(prefix)
        }
        let images = try await engine.listImages().flatMap(\.repoTags).filter { $0.hasPrefix(prefix) }
        return (containers.sorted(), volumes.sorted(), images.sorted())
    }
}

/// A helper's own failure (a command that should have worked did not), thrown to fail the test.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a built product (`ccdk`, `ccorc`) and captures its output.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The signal that ended the process; nil when it exited.
    var signal: Int32? = nil
}

enum Products {
    /// Where `swift build` put the executables: $CCORC_BIN_DIR, else .build/debug beside the package.
    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["CCORC_BIN_DIR"] { return dir }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return package.appendingPathComponent(".build/debug").path
    }

    /// Runs `program` with `arguments`, feeding `input` on stdin, with extra environment.
    /// The wait happens on a thread of its own, so a long command never holds one of the few
    /// threads every other test's tasks (and their deadlines) run on.
    /// - Parameter launcher: a command line that runs the program (e.g. `setpriv` with options).
    static func run(
        _ program: String, _ arguments: [String], input: [UInt8]? = nil, environment: [String: String] = [:],
        launcher: [String] = []
    ) async throws -> CommandResult {
        try await onThreadOfItsOwn {
            try runBlocking(program, arguments, input: input, environment: environment, launcher: launcher)
        }
    }

    /// `run` on the calling thread: for a poll that must go on however busy the task threads are.
    static func runBlocking(
        _ program: String, _ arguments: [String], input: [UInt8]? = nil, environment: [String: String] = [:],
        launcher: [String] = []
    ) throws -> CommandResult {
        let process = Process()
        let commandLine = launcher + [directory + "/" + program] + arguments
        process.executableURL = URL(fileURLWithPath: commandLine[0])
        process.arguments = Array(commandLine.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            let writer = inPipe.fileHandleForWriting
            DispatchQueue.global().async {
                writer.write(Data(input))
                try? writer.close()
            }
        }
        let stderrData = Mutex(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            stderrData.withLock { $0 = data }
            group.leave()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self),
            signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
    }
}

/// Runs `body`, which blocks, on a new thread and suspends until it returns: the task threads are
/// as many as the cores, and a test holding one for seconds stalls every other test's tasks.
func onThreadOfItsOwn<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// Reads up to `count` newline-terminated lines from `descriptor`, giving up after `timeout`
/// seconds (or at end of file); returns the lines read, without their newlines. The wait is on a
/// thread of its own (see `Products.run`).
func readLines(_ descriptor: Int32, count: Int, timeout: Double) async -> [String] {
    (try? await onThreadOfItsOwn { readLinesBlocking(descriptor, count: count, timeout: timeout) }) ?? []
}

private func readLinesBlocking(_ descriptor: Int32, count: Int, timeout: Double) -> [String] {
    let deadline = Date().addingTimeInterval(timeout)
    var buffer: [UInt8] = []
    var lines: [String] = []
    while lines.count < count {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { break }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(left * 1000)) > 0 else { continue }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let read = Glibc.read(descriptor, &chunk, chunk.count)
        guard read > 0 else { break }
        buffer += chunk[..<read]
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")), lines.count < count {
            lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
            buffer.removeSubrange(...newline)
        }
    }
    return lines
}

/// A private dockerd for one test (`scripts/extra-engine.sh`), with the test image in it: its own
/// socket, data root and exec root in a directory of its own, removed with the engine afterwards.
/// With `tls`, it also listens on loopback TCP with mutual TLS (certificates made for the test).
final class ExtraEngine: Sendable {
    let directory: String
    let socketPath: String
    /// `DOCKER_HOST` for the engine.
    var dockerHost: String { "unix://" + socketPath }
    /// The TLS port on 127.0.0.1; nil without TLS.
    let tlsPort: Int?
    /// `tcp://127.0.0.1:PORT`, the TLS address; nil without TLS.
    var tcpAddress: String? { tlsPort.map { "tcp://127.0.0.1:\($0)" } }
    /// The client's `ca.pem`, `cert.pem` and `key.pem`, fit for `DOCKER_CERT_PATH`; nil without TLS.
    var clientCertDirectory: String? { tlsPort == nil ? nil : directory + "/client" }
    /// The environment that points the docker CLI (and ccdk) at the TLS address.
    var tlsEnvironment: [String: String] {
        ["DOCKER_HOST": tcpAddress ?? "", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": clientCertDirectory ?? ""]
    }
    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/extra-engine.sh").standardized.path

    private init(directory: String, tls: Bool) throws {
        self.directory = directory
        var port: Int?
        var socket = ""
        if tls {
            // A port free a moment ago may be taken by the time dockerd binds it: try a few.
            var lastError: (any Error)?
            for _ in 0..<3 {
                let candidate = try Self.freeLoopbackPort()
                do {
                    socket = try Self.script(["start-tls", directory, String(candidate)])
                    port = candidate
                    break
                } catch {
                    lastError = error
                    _ = try? Self.script(["stop", directory])
                }
            }
            if port == nil { throw lastError ?? TestFailure("no TLS engine started") }
        } else {
            socket = try Self.script(["start", directory])
        }
        socketPath = socket
        tlsPort = port
    }

    /// A TCP port on 127.0.0.1 that nothing listens on: bound to port 0, read back, released.
    static func freeLoopbackPort() throws -> Int {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure("bind to 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `body` with a started engine and a client of it (on its Unix socket); stops the
    /// engine and removes its directory afterwards, whether `body` succeeded or not.
    /// - Parameter tls: also listen on loopback TCP with mutual TLS (see `tcpAddress`).
    static func with<T>(tls: Bool = false, _ body: (ExtraEngine, EngineClient) async throws -> T) async throws -> T {
        // Short: the engine's containerd puts its socket under the directory.
        let directory = "/tmp/ccorc-e\(getpid())-\(UInt16.random(in: 0..<UInt16.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = try await onThreadOfItsOwn { try ExtraEngine(directory: directory, tls: tls) }
        let result: Result<T, any Error>
        do {
            let client = try EngineClient(host: EngineHost(socketPath: engine.socketPath))
            _ = try await BusyboxImage.importImage(into: client, reference: TestEngine.image)
            result = .success(try await body(engine, client))
        } catch {
            result = .failure(error)
        }
        try? await engine.stop()
        return try result.get()
    }

    /// Stops the engine (its containers stop with it) and starts it again on the same data root.
    func restart() async throws {
        try await stop()
        try await start()
    }

    /// Stops the engine; its containers stop with it and stay.
    func stop() async throws {
        _ = try await Self.scriptOffTheTaskThreads(["stop", directory])
    }

    /// Starts the stopped engine again on the same data root (and the same TLS port).
    func start() async throws {
        if let tlsPort {
            _ = try await Self.scriptOffTheTaskThreads(["start-tls", directory, String(tlsPort)])
        } else {
            _ = try await Self.scriptOffTheTaskThreads(["start", directory])
        }
    }

    /// `script` waited for on a thread of its own (see `Products.run`).
    private static func scriptOffTheTaskThreads(_ arguments: [String]) async throws -> String {
        try await onThreadOfItsOwn { try script(arguments) }
    }

    private static func script(_ arguments: [String]) throws -> String {
        // Not through Process: it passes on the test thread's signal mask, and a dockerd started
        // with SIGTERM blocked would not stop (see `tmuxSpawnWithCleanSignals`).
        let path = "/tmp/ccorc-extra-\(getpid())-\(UInt32.random(in: 0..<1_000_000)).out"
        defer { unlink(path) }
        let pid = try tmuxSpawnWithCleanSignals([script] + arguments, stdoutPath: path)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw TestFailure("extra-engine.sh \(arguments.joined(separator: " ")) exited with wait status \(status)")
        }
        return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }
}
