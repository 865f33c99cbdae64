import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

/// The pieces of `EngineTransfer` that need no engine: the streaming tar digest and the bounded
/// pipe between a reply and a request body.
@Suite struct TarDigestTests {
    private func archive(secretMode: Int = 0o600, long: Bool = false) throws -> [UInt8] {
        var writer = TarWriter()
        try writer.addDirectory("a", mode: 0o755)
        try writer.addFile("a/one", contents: Array(repeating: 1, count: 1000), uid: 1000, gid: 1000)
        try writer.addSymlink("link", target: "a/one")
        try writer.addFile("secret", contents: Array("x\n".utf8), mode: secretMode)
        try writer.addFile("empty", contents: [])
        if long { try writer.addFile(String(repeating: "d/", count: 80) + "f", contents: [9]) }
        return writer.finish()
    }

    private func digest(_ bytes: [UInt8], chunk: Int, hashing: Bool = true) throws -> TarDigest {
        var digest = TarDigest(hashingContents: hashing)
        var index = 0
        while index < bytes.count {
            try digest.feed(Array(bytes[index..<min(index + chunk, bytes.count)]))
            index += chunk
        }
        return digest
    }

    @Test func countsAndHashesAlikeWhateverTheChunking() throws {
        let bytes = try archive(long: true)
        let whole = try digest(bytes, chunk: bytes.count)
        #expect(whole.isComplete)
        #expect((whole.fileCount, whole.directoryCount, whole.contentBytes) == (5, 1, 1003))
        for size in [1, 7, 511, 512, 513, 4096] {
            #expect(try digest(bytes, chunk: size) == whole, "chunks of \(size)")
        }
        let counting = try digest(bytes, chunk: 100, hashing: false)
        #expect((counting.fileCount, counting.directoryCount, counting.contentBytes, counting.hash) == (5, 1, 1003, 0))
    }

    @Test func seesAChangedModeOrByteOrAMissingEnd() throws {
        let original = try digest(try archive(), chunk: 300)
        #expect(try digest(try archive(secretMode: 0o644), chunk: 300) != original)
        var bytes = try archive()
        // The first content byte of a/one (after the directory's header and a/one's).
        bytes[1024] ^= 0xFF
        #expect(try digest(bytes, chunk: 300) != original)
        let truncated = try digest(Array(try archive().prefix(1536)), chunk: 300)
        #expect(!truncated.isComplete)
    }

    @Test func refusesACorruptHeader() throws {
        var bytes = try archive()
        bytes[0] = UInt8(ascii: "z")
        #expect(throws: TarError.self) { try digest(bytes, chunk: 512) }
    }
}

/// Both sides block, so each runs on a thread of its own (`onThread`), never on the cooperative pool.
@Suite struct ChunkPipeTests {
    @Test func relaysInOrderWithinItsBound() async throws {
        let pipe = ChunkPipe(limit: 1000)
        let written = Mutex(0)
        async let writing: Void = onThread(named: "pipe-writer") {
            for index in 0..<200 {
                #expect(pipe.write([UInt8](repeating: UInt8(index), count: 100)))
                written.withLock { $0 += 100 }
            }
            pipe.finish()
        }
        let (received, peak) = try await onThread(named: "pipe-reader") { () -> Result<([UInt8], Int), any Error> in
            Result {
                var received: [UInt8] = []
                var peak = 0
                while let chunk = try pipe.read() {
                    received += chunk
                    peak = max(peak, written.withLock { $0 } - received.count)
                }
                return (received, peak)
            }
        }.get()
        await writing
        #expect(received.count == 20_000)
        #expect(received == (0..<200).flatMap { [UInt8](repeating: UInt8($0), count: 100) })
        #expect(peak <= 1100)
    }

    @Test func closingReleasesAWaitingWriterAndFailingReachesTheReader() async throws {
        let pipe = ChunkPipe(limit: 10)
        #expect(pipe.write([UInt8](repeating: 0, count: 10)))
        async let blocked = onThread(named: "pipe-writer") { pipe.write([1]) }
        try await Task.sleep(for: .milliseconds(50))
        pipe.close()
        #expect(await blocked == false)
        #expect(try pipe.read() == nil)

        struct Broken: Error {}
        let failing = ChunkPipe(limit: 10)
        failing.fail(Broken())
        #expect(throws: Broken.self) { try failing.read() }
    }
}
