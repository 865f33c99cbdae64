import Foundation
import Testing

/// A stand-in engine on a Unix socket that answers API version negotiation (`/_ping`,
/// `/version`) as dockerd 20.10 does and misbehaves on one endpoint, so that a test can see how the
/// driver copes with an engine gone wrong. It is a small python3 server the test starts and ends by
/// its pid; every other endpoint answers 404.
final class FaultEngine {
    /// How the engine misbehaves.
    enum Fault: String {
        /// `GET /containers/json` answers 200 with a chunked body that never ends (it gives up
        /// after `endlessLimit` bytes so that a driver without a cap cannot eat the machine).
        case endlessContainerList = "endless-list"
        /// `POST /containers/{id}/exec` answers with an Id; `POST /exec/{id}/start` is read and
        /// never answered.
        case silentExecStart = "silent-exec-start"
    }

    /// Bytes of the endless list sent before the engine gives up and closes the connection.
    static let endlessLimit = 1024 * 1024 * 1024

    /// The socket to point `DOCKER_HOST` at.
    let socketPath: String
    /// `DOCKER_HOST=unix://…` for a command run against this engine.
    var environment: [String: String] { ["DOCKER_HOST": "unix://" + socketPath] }
    private let process: Process

    init(_ fault: Fault) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ccorc-fault-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("engine.py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        socketPath = directory.appendingPathComponent("engine.sock").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, socketPath, fault.rawValue, String(Self.endlessLimit)]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socketPath) {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw TestFailure("the fault engine did not start listening on \(socketPath)")
            }
            usleep(20_000)
        }
    }

    /// Ends the engine (by its pid) and removes its socket and script.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: (socketPath as NSString).deletingLastPathComponent)
    }

    private static let script = #"""
        import json, os, socket, sys, threading, time

        path, fault, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])

        def reply(conn, status, body=b"", headers=()):
            head = "HTTP/1.1 %d X\r\nApi-Version: 1.41\r\nContent-Length: %d\r\n" % (status, len(body))
            head += "".join("%s: %s\r\n" % h for h in headers)
            conn.sendall(head.encode() + b"\r\n" + body)

        def endless_list(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            conn.sendall(b"1\r\n[\r\n")
            entry = b'{"Id":"0123456789abcdef","Names":["/fault"],"Image":"x","State":"running","Status":"Up","Labels":{}},'
            chunk = entry * (1024 * 1024 // len(entry))
            framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
            sent = 0
            while sent < limit:
                conn.sendall(framed)
                sent += len(chunk)
            conn.close()

        def serve(conn):
            data = b""
            try:
                while True:
                    while b"\r\n\r\n" not in data:
                        more = conn.recv(65536)
                        if not more:
                            return
                        data += more
                    head, data = data.split(b"\r\n\r\n", 1)
                    lines = head.decode("latin-1").split("\r\n")
                    method, target = lines[0].split(" ")[:2]
                    length = 0
                    for line in lines[1:]:
                        name, _, value = line.partition(":")
                        if name.strip().lower() == "content-length":
                            length = int(value.strip())
                    while len(data) < length:
                        more = conn.recv(65536)
                        if not more:
                            return
                        data += more
                    data = data[length:]
                    route = target.split("?")[0]
                    parts = route.strip("/").split("/")
                    if parts and parts[0].startswith("v1."):
                        parts = parts[1:]
                    if parts == ["_ping"]:
                        reply(conn, 200, b"" if method == "HEAD" else b"OK")
                    elif parts == ["version"]:
                        reply(conn, 200, json.dumps({"ApiVersion": "1.41", "MinAPIVersion": "1.12", "Version": "20.10.24"}).encode(),
                              [("Content-Type", "application/json")])
                    elif fault == "endless-list" and parts == ["containers", "json"]:
                        endless_list(conn)
                        return
                    elif fault == "silent-exec-start" and len(parts) == 3 and parts[0] == "containers" and parts[2] == "exec":
                        reply(conn, 201, b'{"Id":"fault-exec-id"}', [("Content-Type", "application/json")])
                    elif fault == "silent-exec-start" and len(parts) == 3 and parts[0] == "exec" and parts[2] == "start":
                        # Read and never answer: hold the connection until the client gives up.
                        while conn.recv(65536):
                            pass
                        return
                    else:
                        reply(conn, 404, b'{"message":"fault engine: no such endpoint"}', [("Content-Type", "application/json")])
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                conn.close()

        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path + ".tmp")
        listener.listen(64)
        os.rename(path + ".tmp", path)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """#
}
