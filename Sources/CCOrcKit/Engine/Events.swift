import Synchronization

// The event stream: GET /events, one JSON object per line for as long as the connection lasts.

/// One event from the engine's `/events` stream.
public struct EngineEvent: Sendable, Equatable {
    /// What it concerns: `container`, `volume`, `image`, `network`, ...
    public var type: String
    /// What happened: `create`, `start`, `die`, `oom`, `destroy`, ...
    public var action: String
    /// The object's ID (a container's full ID, a volume's name).
    public var actorID: String
    /// The object's attributes: a container's labels, with `name`, `image` and (for `die`)
    /// `exitCode` added by the engine.
    public var attributes: [String: String]
    /// When it happened, in nanoseconds since 1970 (the engine's clock).
    public var timeNanoseconds: Int64

    /// Parses one event line's JSON.
    /// - Throws: `EngineError.malformedReply` when it has no type, action or actor ID.
    public init(json: JSONValue) throws {
        // API 1.22 and later send Type/Action/Actor; older fields (status, id) are the fallback.
        guard let type = json["Type"]?.string, let action = json["Action"]?.string ?? json["status"]?.string,
            let id = json["Actor"]?["ID"]?.string ?? json["id"]?.string
        else {
            throw EngineError(
                .malformedReply, "event without Type, Action or Actor.ID: \(json.serialized().prefix(200))",
                operation: "GET /events")
        }
        self.type = type
        self.action = action
        actorID = id
        attributes = json["Actor"]?["Attributes"]?.stringMap ?? [:]
        timeNanoseconds = json["timeNano"]?.int ?? (json["time"]?.int ?? 0) * 1_000_000_000
    }

    /// An event made by hand, for tests and replays.
    public init(type: String, action: String, actorID: String, attributes: [String: String], timeNanoseconds: Int64) {
        self.type = type
        self.action = action
        self.actorID = actorID
        self.attributes = attributes
        self.timeNanoseconds = timeNanoseconds
    }
}

/// Splits a byte stream into lines, carrying a partial line over to the next chunk.
struct LineSplitter: Sendable {
    private var pending: [UInt8] = []

    /// The complete lines `chunk` finishes, without their newlines; empty lines are skipped.
    mutating func feed(_ chunk: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = 0
        for index in chunk.indices where chunk[index] == UInt8(ascii: "\n") {
            var line = pending
            line.append(contentsOf: chunk[start..<index])
            pending.removeAll(keepingCapacity: true)
            if !line.isEmpty { lines.append(line) }
            start = index + 1
        }
        pending.append(contentsOf: chunk[start...])
        return lines
    }
}

extension EngineClient {
    /// Follows the engine's events (`GET /events`) from `since` (nanoseconds since 1970; nil for
    /// from now on), delivering each to `receive` on the transfer's thread as it arrives.
    ///
    /// Returns when the engine ends the stream or `receive` returns false; throws when the
    /// connection cannot be made or breaks (`.transport`), and on a line that is not an event
    /// (`.malformedReply`). Cancelling the task ends the stream at once.
    /// - Parameter filters: the engine's event filters (`type`, `event`, `label`, ...).
    public func events(
        since: Int64? = nil, filters: [String: [String]], receive: @escaping @Sendable (EngineEvent) -> Bool
    ) async throws {
        let splitter = Mutex(LineSplitter())
        let failure = Mutex<EngineError?>(nil)
        _ = try await send(
            .get, "/events",
            query: [
                ("since", since.map(EngineClient.eventTime)), ("filters", EngineClient.filtersQuery(filters)),
            ], timeout: nil
        ) { chunk in
            for line in splitter.withLock({ $0.feed(chunk) }) {
                let event: EngineEvent
                do {
                    event = try EngineEvent(json: try JSONValue.parse(line))
                } catch {
                    failure.withLock {
                        $0 =
                            error as? EngineError
                            ?? EngineError(
                                .malformedReply, "event line is not JSON: \(error)", operation: "GET /events")
                    }
                    return false
                }
                if !receive(event) { return false }
            }
            return true
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// `SECONDS.NANOSECONDS`, the form `since` takes with a fraction.
    static func eventTime(_ nanoseconds: Int64) -> String {
        let fraction = String(nanoseconds % 1_000_000_000)
        return "\(nanoseconds / 1_000_000_000)." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
}
