import CCOrcKit
import Foundation

/// A private dockerd beside the main one (`scripts/extra-engine.sh`): its own socket, data root and
/// exec root under a short directory, networking off, with the bench image imported.
struct ExtraBenchEngine {
    /// The directory holding its socket, data and pid file.
    let directory: String
    /// Its Unix socket.
    let socketPath: String
    /// A client of it.
    let client: EngineClient

    /// `DOCKER_HOST` for it.
    var dockerHost: String { "unix://" + socketPath }

    private static let scriptPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../scripts/extra-engine.sh").standardized.path

    /// Starts `count` engines (registered with `BenchResources`, so that an interruption stops
    /// them), runs `body`, and stops them whatever happens.
    static func with<T>(
        _ count: Int, image: String, _ body: ([ExtraBenchEngine]) async throws -> T
    ) async throws -> T {
        var engines: [ExtraBenchEngine] = []
        defer { for engine in engines { BenchResources.shared.stopExtraEngine(engine.directory) } }
        for index in 0..<count {
            try BenchResources.shared.checkpoint()
            // Short: the engine's containerd puts its socket under it.
            let directory = "/tmp/ccorc-b\(getpid() % 100_000)-\(index)"
            BenchResources.shared.registerExtraEngine(directory)
            let socket = try script(["start", directory])
            let client = try EngineClient(host: EngineHost(socketPath: socket))
            engines.append(ExtraBenchEngine(directory: directory, socketPath: socket, client: client))
            _ = try await BusyboxImage.importImage(into: client, reference: image)
        }
        return try await body(engines)
    }

    /// Runs `scripts/extra-engine.sh` and returns what it printed (the socket, for `start`).
    /// Spawned with no signal blocked: a dockerd that inherits a task thread's blocked SIGTERM
    /// would never stop (see `spawnWithCleanSignals`).
    static func script(_ arguments: [String]) throws -> String {
        let path = NSTemporaryDirectory() + "ccorc-bench-engine-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        let output = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard output >= 0 else { throw CommandFailed(description: "cannot create \(path)") }
        defer { unlink(path) }
        let spawned = spawnWithCleanSignals([scriptPath] + arguments, input: nil, output: output, closing: nil)
        close(output)
        let pid = try spawned.get()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw CommandFailed(
                description: "extra-engine.sh \(arguments.joined(separator: " ")) exited with status \(status)")
        }
        return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }
}
