import Foundation
import Glibc
import Testing

@testable import CCOrcKit

/// A one-shot HTTP server on a Unix socket that answers every request with a canned reply, so
/// that broken engine replies can be replayed against the real client code.
final class CannedReplyServer: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(reply: String) throws {
        path = "/tmp/ccorc-canned-\(getpid())-\(UInt32.random(in: 0..<1_000_000)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            throw CgroupError(code: .unreadable, message: "cannot listen on \(path)")
        }
        let listener = fd
        let bytes = Array(reply.utf8)
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = read(client, &buffer, buffer.count)
                _ = bytes.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                close(client)
            }
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }
}

@Suite struct MalformedReplyTests {
    func client(for reply: String) throws -> (EngineClient, CannedReplyServer) {
        let server = try CannedReplyServer(reply: reply)
        return (try EngineClient(host: EngineHost(socketPath: server.path), apiVersion: "1.41"), server)
    }

    @Test func truncatedJSONIsAMalformedReply() async throws {
        let body = #"[{"Id":"abc","Names":["/x"#
        let (engine, server) = try client(
            for:
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        )
        await #expect {
            _ = try await engine.listContainers()
        } throws: { ($0 as? EngineError)?.code == .malformedReply }
        withExtendedLifetime(server) {}
    }

    @Test func aBodyCutShortIsATransportError() async throws {
        let (engine, server) = try client(for: "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n[{\"Id\":")
        await #expect {
            _ = try await engine.listContainers()
        } throws: { ($0 as? EngineError)?.code == .transport }
        withExtendedLifetime(server) {}
    }

    @Test func anErrorWithoutJSONKeepsTheText() async throws {
        let (engine, server) = try client(
            for: "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 9\r\n\r\ndisk full")
        do {
            _ = try await engine.inspectContainer("x")
            Issue.record("a 500 reply succeeded")
        } catch let error as EngineError {
            #expect(error.code == .server && error.message == "disk full" && error.status == 500)
        }
        withExtendedLifetime(server) {}
    }

    @Test func theWrongShapeIsAMalformedReply() async throws {
        let body = #"{"not":"a list"}"#
        let (engine, server) = try client(for: "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        await #expect {
            _ = try await engine.listContainers()
        } throws: { ($0 as? EngineError)?.code == .malformedReply }
        await #expect {
            _ = try await engine.inspectContainer("x")
        } throws: { ($0 as? EngineError)?.code == .malformedReply }
        withExtendedLifetime(server) {}
    }

    @Test func garbageInsteadOfHTTPIsAnError() async throws {
        let (engine, server) = try client(for: "\u{0}\u{1}garbage\r\n\r\n")
        await #expect {
            try await engine.ping()
        } throws: { $0 is EngineError }
        withExtendedLifetime(server) {}
    }
}
