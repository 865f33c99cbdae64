import Glibc

/// How an interactive stream ended.
public enum StreamOutcome: Sendable, Equatable {
    /// The remote side closed the stream (the process ended).
    case ended
    /// The user typed the detach keys; the remote process goes on running.
    case detached
}

/// A key sequence that detaches from a stream, `ctrl-p,ctrl-q` by default (as Docker's).
public struct DetachKeys: Sendable, Equatable {
    /// The bytes of the sequence.
    public var bytes: [UInt8]

    /// Parses Docker's notation: comma-separated `ctrl-<letter>`, `ctrl-@`, `ctrl-[`, or single characters.
    /// An empty string disables detaching.
    public init(_ text: String = "ctrl-p,ctrl-q") throws {
        var bytes: [UInt8] = []
        for part in text.split(separator: ",") {
            let key = part.lowercased()
            if key.hasPrefix("ctrl-"), key.count == 6, let character = key.last?.asciiValue {
                switch character {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): bytes.append(character - UInt8(ascii: "a") + 1)
                case UInt8(ascii: "@"): bytes.append(0)
                case UInt8(ascii: "["): bytes.append(27)
                case UInt8(ascii: "\\"): bytes.append(28)
                case UInt8(ascii: "]"): bytes.append(29)
                case UInt8(ascii: "^"): bytes.append(30)
                case UInt8(ascii: "_"): bytes.append(31)
                default: throw EngineError(.invalidInput, "invalid detach key \"\(part)\"")
                }
            } else if part.utf8.count == 1 {
                bytes.append(part.utf8.first!)
            } else {
                throw EngineError(
                    .invalidInput, "invalid detach key \"\(part)\": use ctrl-<letter> or a single character")
            }
        }
        self.bytes = bytes
    }
}

/// Copies bytes between local descriptors and a hijacked engine stream until either side ends.
///
/// With a TTY the remote output is raw and goes to `output`; without one it is demultiplexed onto
/// `output` and `errorOutput`. Local input (when `input` is not -1) is forwarded; its end half-closes
/// the connection so that the remote process sees end of input. Runs on its own thread: it blocks in
/// poll(2) and must not hold a Swift concurrency thread.
public struct InteractiveStream: Sendable {
    /// Local input, or -1 for none.
    public var input: Int32 = STDIN_FILENO
    /// Where stdout (and, with a TTY, everything) goes.
    public var output: Int32 = STDOUT_FILENO
    /// Where stderr goes without a TTY.
    public var errorOutput: Int32 = STDERR_FILENO
    /// Whether the remote side has a TTY.
    public var tty: Bool
    /// The sequence that detaches (TTY only); nil never detaches.
    public var detachKeys: DetachKeys?

    /// A pump for a stream with or without a TTY.
    public init(tty: Bool, detachKeys: DetachKeys? = nil) {
        self.tty = tty
        self.detachKeys = detachKeys
    }

    /// Pumps until the stream ends or the user detaches, on a dedicated thread.
    public func run(_ connection: HijackedConnection) async throws -> StreamOutcome {
        let box = UncheckedBox(connection)
        return try await withCheckedThrowingContinuation { continuation in
            startThread(named: "ccorc-stream") {
                do {
                    continuation.resume(returning: try self.pump(box.value))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The blocking loop itself. Input is forwarded without ever blocking on a full socket, so that
    /// a remote process that writes while it reads (`cat`) cannot deadlock the pump.
    public func pump(_ connection: HijackedConnection) throws -> StreamOutcome {
        var demultiplexer = StreamDemultiplexer(raw: tty)
        var inputOpen = input >= 0
        var writeClosed = false
        var pending: [UInt8] = []
        var pendingOffset = 0
        var detach = DetachMatcher(sequence: tty ? (detachKeys?.bytes ?? []) : [])
        while true {
            let hasPending = pendingOffset < pending.count
            if !inputOpen && !hasPending && !writeClosed && !tty {
                connection.closeWrite()
                writeClosed = true
            }
            let ready = connection.wait(
                terminal: inputOpen && !hasPending ? input : -1, wantWrite: hasPending, timeoutMilliseconds: 1000)
            if ready.readable {
                guard let chunk = try connection.receive() else { return .ended }
                for frame in demultiplexer.feed(chunk) {
                    LocalTerminal.writeAll(frame.stream == .stderr ? errorOutput : output, frame.payload)
                }
            }
            if ready.writable && hasPending {
                pendingOffset += try connection.sendAvailable(pending[pendingOffset...])
                if pendingOffset == pending.count {
                    pending.removeAll(keepingCapacity: true)
                    pendingOffset = 0
                }
            }
            if ready.terminal && inputOpen && !hasPending {
                guard let bytes = LocalTerminal.readAvailable(input) else {
                    inputOpen = false
                    continue
                }
                switch detach.filter(bytes) {
                case .forward(let forward): pending += forward
                case .detach: return .detached
                }
            }
        }
    }
}

/// Watches input for the detach sequence, holding back a possible start of it until it completes
/// (detach) or breaks (the held bytes are forwarded).
struct DetachMatcher {
    enum Result: Equatable {
        case forward([UInt8])
        case detach
    }

    let sequence: [UInt8]
    private var matched = 0

    init(sequence: [UInt8]) {
        self.sequence = sequence
    }

    mutating func filter(_ bytes: [UInt8]) -> Result {
        guard !sequence.isEmpty else { return .forward(bytes) }
        var forward: [UInt8] = []
        for byte in bytes {
            if byte == sequence[matched] {
                matched += 1
                if matched == sequence.count { return .detach }
            } else {
                forward += sequence[0..<matched]
                matched = byte == sequence[0] ? 1 : 0
                if matched == 0 { forward.append(byte) }
            }
        }
        return .forward(forward)
    }
}

/// Moves a non-Sendable value into a thread that becomes its only user.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
