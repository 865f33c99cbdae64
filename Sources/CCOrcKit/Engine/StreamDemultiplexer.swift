/// Which stream a chunk of container output belongs to.
public enum StreamKind: UInt8, Sendable {
    case stdin = 0
    case stdout = 1
    case stderr = 2
}

/// A chunk of container output with its stream.
public struct StreamFrame: Sendable, Equatable {
    /// stdout or stderr (stdin for a raw TTY stream's echo is reported as stdout).
    public var stream: StreamKind
    /// The bytes.
    public var payload: [UInt8]

    /// Creates a frame.
    public init(stream: StreamKind, payload: [UInt8]) {
        self.stream = stream
        self.payload = payload
    }
}

/// Splits the engine's multiplexed stream format into frames, across arbitrary chunk boundaries.
///
/// Without a TTY, logs, attach and exec streams carry 8-byte headers: byte 0 is the stream
/// (0 stdin, 1 stdout, 2 stderr), bytes 4...7 the payload length, big-endian. With a TTY the stream
/// is raw and everything is stdout.
public struct StreamDemultiplexer: Sendable {
    private let raw: Bool
    private var buffer: [UInt8] = []

    /// A demultiplexer; `raw` for a TTY stream, which has no headers.
    public init(raw: Bool) {
        self.raw = raw
    }

    /// Bytes received but not yet part of a whole frame.
    public var pendingByteCount: Int { buffer.count }

    /// Adds received bytes and returns every frame now complete.
    public mutating func feed(_ bytes: [UInt8]) -> [StreamFrame] {
        if raw { return bytes.isEmpty ? [] : [StreamFrame(stream: .stdout, payload: bytes)] }
        buffer.append(contentsOf: bytes)
        var frames: [StreamFrame] = []
        var offset = 0
        while buffer.count - offset >= 8 {
            let length = buffer[offset + 4..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
            guard buffer.count - offset - 8 >= length else { break }
            let stream = StreamKind(rawValue: buffer[offset]) ?? .stdout
            frames.append(StreamFrame(stream: stream, payload: Array(buffer[offset + 8..<offset + 8 + length])))
            offset += 8 + length
        }
        if offset > 0 { buffer.removeFirst(offset) }
        return frames
    }
}
