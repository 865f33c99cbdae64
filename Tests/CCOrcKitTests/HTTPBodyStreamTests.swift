import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

/// The request body that libcurl's read callback pulls while a producer thread makes it.
@Suite struct HTTPBodyStreamTests {
    @Test func producesNoFurtherThanItsBufferAhead() throws {
        let produced = Mutex(0)
        let stream = HTTPBodyStream(bufferLimit: 4096) {
            produced.withLock { $0 += 1 }
            return [UInt8](repeating: 1, count: 1024)
        }
        #expect(stream.start())
        #expect(stream.start() == false, "a stream is sent once")
        /// Waits up to five seconds for the producer to have made `count` pieces.
        func waitForPieces(_ count: Int) {
            let deadline = Date().addingTimeInterval(5)
            while produced.withLock({ $0 }) < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        }
        // Four pieces of 1024 reach the 4096-byte limit; the producer then waits.
        waitForPieces(4)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(produced.withLock { $0 } == 4)
        var buffer = [UInt8](repeating: 0, count: 1500)
        let outcome = buffer.withUnsafeMutableBytes { stream.read(into: $0, wait: true) }
        #expect(outcome == .bytes(1500), "two pieces joined to fill the buffer")
        // The first piece is sent, the second only in part and so still counts: 3072 bytes wait,
        // and one more piece brings them back to the limit, and no further.
        waitForPieces(5)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(produced.withLock { $0 } == 5)
        stream.close()
        #expect(buffer.withUnsafeMutableBytes { stream.read(into: $0, wait: true) } == .failed)
    }

    @Test func aProducerFailureAbortsTheReader() throws {
        let pieces = Mutex(0)
        let stream = HTTPBodyStream {
            let count = pieces.withLock {
                $0 += 1
                return $0
            }
            if count == 3 { throw TarError(.unreadable, "cannot read x: Permission denied") }
            return [UInt8(count)]
        }
        #expect(stream.start())
        var buffer = [UInt8](repeating: 0, count: 16)
        var outcomes: [HTTPBodyStream.ReadOutcome] = []
        while outcomes.last != .failed && outcomes.count < 10 {
            outcomes.append(buffer.withUnsafeMutableBytes { stream.read(into: $0, wait: true) })
        }
        #expect(outcomes.last == .failed)
        #expect(outcomes.dropLast().allSatisfy { $0 != .end })
        #expect((stream.failure as? TarError)?.message == "cannot read x: Permission denied")
    }

    @Test func aPendingReadIsWokenWhenAPieceIsReady() async throws {
        let gate = DispatchSemaphore(value: 0)
        let stream = HTTPBodyStream {
            gate.wait()
            return nil
        }
        #expect(stream.start())
        var buffer = [UInt8](repeating: 0, count: 16)
        let woken = DispatchSemaphore(value: 0)
        #expect(
            buffer.withUnsafeMutableBytes { stream.read(into: $0, wait: false, whenReady: { woken.signal() }) }
                == .pending)
        gate.signal()
        #expect(woken.wait(timeout: .now() + 5) == .success)
        #expect(buffer.withUnsafeMutableBytes { stream.read(into: $0, wait: false) } == .end)
    }
}
