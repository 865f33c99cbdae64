/// tmux's answer to one command: the lines between `%begin` and `%end` or `%error`.
public struct TmuxReply: Sendable, Hashable {
    /// The server time tmux printed in the guard lines.
    public var time: Int
    /// tmux's command number, shared by `%begin` and its `%end`/`%error`.
    public var number: Int
    /// The guard flags; bit 0 set means the command came from this client's own pipe.
    public var flags: Int
    /// False when tmux closed the block with `%error`.
    public var succeeded: Bool
    /// The output lines, without newlines.
    public var lines: [String]

    /// Creates a reply; used by the parser and by tests.
    public init(time: Int, number: Int, flags: Int, succeeded: Bool, lines: [String]) {
        self.time = time
        self.number = number
        self.flags = flags
        self.succeeded = succeeded
        self.lines = lines
    }

    /// Whether this client wrote the command (flags bit 0); other blocks come from the command
    /// tmux ran when the client started.
    public var isFromThisClient: Bool { flags & 1 == 1 }

    /// The output lines joined with newlines (for `%error`, tmux's message).
    public var text: String { lines.joined(separator: "\n") }
}

/// A change of a format subscribed to with `refresh-client -B`.
public struct TmuxSubscriptionChange: Sendable, Hashable {
    /// The subscription's name.
    public var name: String
    /// The session id (`$N`).
    public var sessionID: String
    /// The window id (`@N`), nil for a session subscription.
    public var windowID: String?
    /// The window index, nil for a session subscription.
    public var windowIndex: Int?
    /// The pane id (`%N`), nil for session and window subscriptions.
    public var paneID: String?
    /// The format's new value.
    public var value: String

    /// A change; made by the parser, and by tests.
    public init(name: String, sessionID: String, windowID: String?, windowIndex: Int?, paneID: String?, value: String) {
        self.name = name
        self.sessionID = sessionID
        self.windowID = windowID
        self.windowIndex = windowIndex
        self.paneID = paneID
        self.value = value
    }
}

/// An asynchronous message from tmux (a line starting with `%` outside a reply block), or a change
/// in the connection itself.
public enum TmuxNotification: Sendable, Hashable {
    /// Pane output, unescaped to the original bytes (`%output %PANE DATA`).
    case output(paneID: String, data: [UInt8])
    /// Pane output with its age in milliseconds, when the client asked for `pause-after`.
    case extendedOutput(paneID: String, ageMilliseconds: UInt64, data: [UInt8])
    /// tmux paused output of a pane for this client.
    case pause(paneID: String)
    /// tmux resumed output of a pane for this client.
    case `continue`(paneID: String)
    /// A session was created or destroyed.
    case sessionsChanged
    /// This client is now attached to another session.
    case sessionChanged(sessionID: String, name: String)
    /// Another client is now attached to another session.
    case clientSessionChanged(client: String, sessionID: String, name: String)
    /// A session was renamed.
    case sessionRenamed(sessionID: String, name: String)
    /// A session's current window changed.
    case sessionWindowChanged(sessionID: String, windowID: String)
    /// A client detached.
    case clientDetached(client: String)
    /// A window was linked into this client's session.
    case windowAdd(windowID: String)
    /// A window of this client's session was closed.
    case windowClose(windowID: String)
    /// A window of this client's session was renamed.
    case windowRenamed(windowID: String, name: String)
    /// A window was linked into a session other than this client's.
    case unlinkedWindowAdd(windowID: String)
    /// A window not in this client's session was closed.
    case unlinkedWindowClose(windowID: String)
    /// A window not in this client's session was renamed.
    case unlinkedWindowRenamed(windowID: String, name: String)
    /// A window's active pane changed (also when the active pane died).
    case windowPaneChanged(windowID: String, paneID: String)
    /// A window's layout changed (windows of this client's session only).
    case layoutChange(windowID: String, layout: String)
    /// A pane entered or left a mode.
    case paneModeChanged(paneID: String)
    /// A paste buffer was changed.
    case pasteBufferChanged(name: String)
    /// A paste buffer was deleted.
    case pasteBufferDeleted(name: String)
    /// A subscribed format changed.
    case subscriptionChanged(TmuxSubscriptionChange)
    /// A message tmux would have shown in the status line.
    case message(String)
    /// An error in the configuration file.
    case configError(String)
    /// tmux is ending this control client; the reason when tmux gave one.
    case exit(reason: String?)
    /// A `%` line this client does not know (newer tmux); kept whole.
    case unknown(line: String)
    /// A line the protocol does not allow here; reported, never fatal.
    case protocolViolation(line: String, reason: String)
    /// The connection to tmux ended; the next call reconnects once.
    case disconnected(TmuxError)
    /// The client attached again after a disconnection.
    case reconnected
}

/// What the parser makes of the bytes it is fed.
public enum TmuxProtocolEvent: Sendable, Hashable {
    /// A complete `%begin` … `%end`/`%error` block.
    case reply(TmuxReply)
    /// Anything else that tmux pushed.
    case notification(TmuxNotification)
}

/// A pure parser of tmux's control-mode output: bytes in, typed events out.
///
/// Lines may arrive split across reads; the parser keeps the unfinished tail until the rest comes.
/// Inside a block every line is output (pane ids start with `%` too) until the `%end` or `%error`
/// with the same time, number and flags as the `%begin`.
public struct TmuxProtocolParser: Sendable {
    private var pending: [UInt8] = []
    private var block: (time: Int, number: Int, flags: Int, lines: [String])?

    /// A parser at the start of a stream.
    public init() {}

    /// Whether the parser is inside a reply block.
    public var isInsideBlock: Bool { block != nil }

    /// Consumes `bytes` and returns the events completed by them, in order.
    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) -> [TmuxProtocolEvent] where Bytes.Element == UInt8 {
        var events: [TmuxProtocolEvent] = []
        // The kept tail has no newline, so scanning starts at the new bytes.
        var index = pending.count
        pending.append(contentsOf: bytes)
        var start = 0
        while index < pending.count {
            if pending[index] == UInt8(ascii: "\n") {
                // tmux ends lines with \n alone; a \r before it is data (an option value, say).
                if let event = handle(line: pending[start..<index]) { events.append(event) }
                start = index + 1
            }
            index += 1
        }
        pending.removeSubrange(0..<start)
        return events
    }

    /// Ends the stream: reports an unfinished line or block.
    public mutating func finish() -> [TmuxProtocolEvent] {
        var events: [TmuxProtocolEvent] = []
        if !pending.isEmpty {
            events.append(
                .notification(
                    .protocolViolation(
                        line: String(decoding: pending, as: UTF8.self), reason: "stream ended inside a line")))
            pending.removeAll()
        }
        if let open = block {
            events.append(
                .notification(
                    .protocolViolation(
                        line: "%begin \(open.time) \(open.number) \(open.flags)",
                        reason: "stream ended inside a reply block")))
            block = nil
        }
        return events
    }

    private mutating func handle(line bytes: ArraySlice<UInt8>) -> TmuxProtocolEvent? {
        if var open = block {
            if let guardLine = Self.guardLine(bytes), guardLine.kind != "begin",
                guardLine.time == open.time, guardLine.number == open.number, guardLine.flags == open.flags
            {
                block = nil
                return .reply(
                    TmuxReply(
                        time: open.time, number: open.number, flags: open.flags,
                        succeeded: guardLine.kind == "end", lines: open.lines))
            }
            block = nil  // keep the array uniquely referenced while appending
            open.lines.append(String(decoding: bytes, as: UTF8.self))
            block = open
            return nil
        }
        if let guardLine = Self.guardLine(bytes) {
            if guardLine.kind == "begin" {
                block = (guardLine.time, guardLine.number, guardLine.flags, [])
                return nil
            }
            return .notification(
                .protocolViolation(
                    line: String(decoding: bytes, as: UTF8.self), reason: "%\(guardLine.kind) without %begin"))
        }
        let line = String(decoding: bytes, as: UTF8.self)
        guard bytes.first == UInt8(ascii: "%") else {
            return .notification(
                .protocolViolation(line: line, reason: "line outside a reply block does not start with %"))
        }
        return .notification(Self.notification(line: line, bytes: bytes))
    }

    /// Parses `%begin|%end|%error TIME NUMBER FLAGS`.
    private static func guardLine(_ bytes: ArraySlice<UInt8>) -> (kind: String, time: Int, number: Int, flags: Int)? {
        guard bytes.first == UInt8(ascii: "%"), bytes.count < 80 else { return nil }
        let fields = bytes.dropFirst().split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 4 else { return nil }
        let kind = String(decoding: fields[0], as: UTF8.self)
        guard kind == "begin" || kind == "end" || kind == "error",
            let time = Int(String(decoding: fields[1], as: UTF8.self)),
            let number = Int(String(decoding: fields[2], as: UTF8.self)),
            let flags = Int(String(decoding: fields[3], as: UTF8.self))
        else { return nil }
        return (kind, time, number, flags)
    }

    private static func notification(line: String, bytes: ArraySlice<UInt8>) -> TmuxNotification {
        let name: Substring
        let rest: Substring
        if let space = line.firstIndex(of: " ") {
            name = line[line.index(after: line.startIndex)..<space]
            rest = line[line.index(after: space)...]
        } else {
            name = line.dropFirst()
            rest = ""
        }
        func malformed() -> TmuxNotification {
            .protocolViolation(line: line, reason: "malformed %\(name) notification")
        }
        /// Splits `rest` into `count` space-separated fields, the last taking the remainder.
        func fields(_ count: Int) -> [String]? {
            let parts = rest.split(separator: " ", maxSplits: count - 1, omittingEmptySubsequences: false)
            return parts.count == count ? parts.map(String.init) : nil
        }
        switch name {
        case "begin", "end", "error":
            return .protocolViolation(line: line, reason: "malformed %\(name) guard line")
        case "output":
            guard let space = bytes.firstIndex(of: UInt8(ascii: " ")),
                let second = bytes[(space + 1)...].firstIndex(of: UInt8(ascii: " "))
            else { return malformed() }
            let pane = String(decoding: bytes[(space + 1)..<second], as: UTF8.self)
            return .output(paneID: pane, data: unescapeOutput(bytes[(second + 1)...]))
        case "extended-output":
            // %extended-output %PANE AGE ... : DATA (fields before ':' may grow in later versions)
            guard let separator = findSubsequence(bytes, Array(" : ".utf8)) else { return malformed() }
            let head = String(decoding: bytes[bytes.startIndex..<separator], as: UTF8.self).split(separator: " ")
            guard head.count >= 3, let age = UInt64(head[2]) else { return malformed() }
            return .extendedOutput(
                paneID: String(head[1]), ageMilliseconds: age, data: unescapeOutput(bytes[(separator + 3)...]))
        case "pause":
            return rest.isEmpty ? malformed() : .pause(paneID: String(rest))
        case "continue":
            return rest.isEmpty ? malformed() : .continue(paneID: String(rest))
        case "sessions-changed":
            return .sessionsChanged
        case "session-changed":
            guard let f = fields(2) else { return malformed() }
            return .sessionChanged(sessionID: f[0], name: f[1])
        case "client-session-changed":
            guard let f = fields(3) else { return malformed() }
            return .clientSessionChanged(client: f[0], sessionID: f[1], name: f[2])
        case "session-renamed":
            guard let f = fields(2) else { return malformed() }
            return .sessionRenamed(sessionID: f[0], name: f[1])
        case "session-window-changed":
            guard let f = fields(2) else { return malformed() }
            return .sessionWindowChanged(sessionID: f[0], windowID: f[1])
        case "client-detached":
            return rest.isEmpty ? malformed() : .clientDetached(client: String(rest))
        case "window-add":
            return rest.isEmpty ? malformed() : .windowAdd(windowID: String(rest))
        case "window-close":
            return rest.isEmpty ? malformed() : .windowClose(windowID: String(rest))
        case "window-renamed":
            guard let f = fields(2) else { return malformed() }
            return .windowRenamed(windowID: f[0], name: f[1])
        case "unlinked-window-add":
            return rest.isEmpty ? malformed() : .unlinkedWindowAdd(windowID: String(rest))
        case "unlinked-window-close":
            return rest.isEmpty ? malformed() : .unlinkedWindowClose(windowID: String(rest))
        case "unlinked-window-renamed":
            guard let f = fields(2) else { return malformed() }
            return .unlinkedWindowRenamed(windowID: f[0], name: f[1])
        case "window-pane-changed":
            guard let f = fields(2) else { return malformed() }
            return .windowPaneChanged(windowID: f[0], paneID: f[1])
        case "layout-change":
            guard let f = fields(2) else { return malformed() }
            return .layoutChange(windowID: f[0], layout: f[1])
        case "pane-mode-changed":
            return rest.isEmpty ? malformed() : .paneModeChanged(paneID: String(rest))
        case "paste-buffer-changed":
            return .pasteBufferChanged(name: String(rest))
        case "paste-buffer-deleted":
            return .pasteBufferDeleted(name: String(rest))
        case "subscription-changed":
            // NAME $S @W IDX %P : VALUE, with '-' for the parts a subscription does not have.
            guard let f = fields(7), f[5] == ":" else { return malformed() }
            func optional(_ text: String) -> String? { text == "-" ? nil : text }
            return .subscriptionChanged(
                TmuxSubscriptionChange(
                    name: f[0], sessionID: f[1], windowID: optional(f[2]), windowIndex: Int(f[3]),
                    paneID: optional(f[4]), value: f[6]))
        case "message":
            return .message(String(rest))
        case "config-error":
            return .configError(String(rest))
        case "exit":
            return .exit(reason: rest.isEmpty ? nil : String(rest))
        default:
            return .unknown(line: line)
        }
    }

    /// Decodes tmux's `%output` escaping: bytes below space and `\` are written as `\ooo`.
    public static func unescapeOutput<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        func octalDigit(_ byte: UInt8) -> UInt8? {
            byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "7") ? byte - UInt8(ascii: "0") : nil
        }
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "\\"), index + 3 < input.count,
                let a = octalDigit(input[index + 1]), let b = octalDigit(input[index + 2]),
                let c = octalDigit(input[index + 3]),
                a <= 3
            {
                output.append(a << 6 | b << 3 | c)
                index += 4
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    private static func findSubsequence(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
