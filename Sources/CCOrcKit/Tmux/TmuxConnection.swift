import Dispatch
import Synchronization

/// One live `tmux -C` child and the protocol state around it: the FIFO of commands written and not
/// yet answered, the session this control client is attached to, and a reader thread.
///
/// Replies are matched to commands by order: tmux answers the commands of one control client in
/// the order they were written, each in a `%begin`/`%end` (or `%error`) block with flags 1. Blocks
/// with flags 0 answer the command tmux was started with and are consumed by the handshake.
///
/// The reader is a dedicated thread doing blocking reads, so that waiting for tmux never occupies
/// a thread of Swift's cooperative pool.
final class TmuxConnection: Sendable {
    /// What the handshake learned: the replies to the start-up command and the attached session.
    struct Handshake: Sendable {
        var initialReplies: [TmuxReply]
        var sessionID: String
        var sessionName: String
    }

    private struct PendingCommand {
        var line: String
        var expectsExit: Bool
        var complete: @Sendable (Result<TmuxReply, TmuxError>) -> Void
    }

    private struct State {
        var pending: [PendingCommand] = []
        var pendingHead = 0
        var alive = true
        var closing = false
        var handshake: (@Sendable (Result<Handshake, TmuxError>) -> Void)?
        var handshakeFailure: TmuxError?
        var initialReplies: [TmuxReply] = []
        var sessionID: String?
        var sessionName: String?
        var exitReason: String?
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let process: TmuxChildProcess
    private let state = Mutex(State())
    /// Serializes "append to the FIFO, then write": FIFO order must equal byte order. Separate from
    /// `state` so a writer blocked on a full socket never blocks the reader that would drain it.
    private let writeOrder = Mutex(())
    private let onNotification: @Sendable (TmuxNotification) -> Void
    private let onEnd: @Sendable (TmuxConnection, TmuxError) -> Void

    private init(
        process: TmuxChildProcess,
        onNotification: @escaping @Sendable (TmuxNotification) -> Void,
        onEnd: @escaping @Sendable (TmuxConnection, TmuxError) -> Void
    ) {
        self.process = process
        self.onNotification = onNotification
        self.onEnd = onEnd
    }

    /// Starts `tmux ARGUMENTS` and waits (without blocking a thread) until tmux has answered the
    /// start-up command and reported the attached session.
    ///
    /// - Throws: `.serverNotRunning` when tmux answers "no sessions" or cannot connect,
    ///   `.commandFailed` when the start-up command fails, `.spawnFailed`, `.timedOut`.
    static func open(
        executable: String,
        arguments: [String],
        timeout: Duration = .seconds(10),
        onNotification: @escaping @Sendable (TmuxNotification) -> Void,
        onEnd: @escaping @Sendable (TmuxConnection, TmuxError) -> Void
    ) async throws -> (TmuxConnection, Handshake) {
        let process = try TmuxChildProcess.spawn(executable: executable, arguments: arguments)
        let connection = TmuxConnection(process: process, onNotification: onNotification, onEnd: onEnd)
        let handshake = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Handshake, any Error>) in
            connection.state.withLock { $0.handshake = { continuation.resume(with: $0) } }
            startThread(named: "tmux-control-reader") { connection.readLoop() }
            let nanoseconds =
                timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
                connection.failHandshake(TmuxError(.timedOut, "tmux -C did not finish attaching within \(timeout)"))
            }
        }
        return (connection, handshake)
    }

    /// Whether commands can still be answered: the stream is open, tmux has not announced `%exit`,
    /// and the client has not been closed.
    var isAlive: Bool { state.withLock { $0.alive && !$0.closing && $0.exitReason == nil } }

    /// The name of the session this control client is attached to, as tmux last reported it.
    var attachedSessionName: String? { state.withLock { $0.sessionName } }

    /// The id (`$N`) of the session this control client is attached to.
    var attachedSessionID: String? { state.withLock { $0.sessionID } }

    /// Writes `commands` in one write and calls `completion` once with their replies, in order.
    ///
    /// A command marked `expectsExit` is one that ends this control client (killing its own session
    /// or the server); if the stream ends before its reply arrives it counts as done.
    func submit(
        _ commands: [(line: String, expectsExit: Bool)],
        completion: @escaping @Sendable (Result<[TmuxReply], TmuxError>) -> Void
    ) {
        guard !commands.isEmpty else { return completion(.success([])) }
        let collector = TmuxReplyCollector(count: commands.count, completion: completion)
        var bytes: [UInt8] = []
        for command in commands {
            bytes += command.line.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
        writeOrder.withLock { _ in
            let refusal: TmuxError? = state.withLock { state in
                if state.closing { return TmuxError(.closed, "the tmux client was closed") }
                if !state.alive {
                    return TmuxError(
                        .connectionLost,
                        state.exitReason.map { "tmux ended the connection: \($0)" }
                            ?? "the connection to tmux has ended")
                }
                for (index, command) in commands.enumerated() {
                    state.pending.append(
                        PendingCommand(line: command.line, expectsExit: command.expectsExit) {
                            collector.deliver($0, at: index)
                        })
                }
                return nil
            }
            if let refusal { return collector.fail(refusal) }
            do {
                try process.write(bytes)
            } catch {
                // The stream's end, seen by the reader, fails the commands just queued.
                process.shutdownWriting()
            }
        }
    }

    /// Returns once the stream from tmux has ended and the child has been reaped.
    func waitUntilEnded() async {
        await withCheckedContinuation { continuation in
            let ended = state.withLock { state in
                if !state.alive { return true }
                state.endWaiters.append(continuation)
                return false
            }
            if ended { continuation.resume() }
        }
    }

    /// Detaches: tmux answers what was already written, then ends the control client.
    func close() {
        let wasClosing = state.withLock { state in
            defer { state.closing = true }
            return state.closing
        }
        guard !wasClosing else { return }
        writeOrder.withLock { _ in
            // An empty line is control mode's "detach".
            try? process.write([UInt8(ascii: "\n")])
            process.shutdownWriting()
        }
        let connection = self
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) {
            if connection.state.withLock({ $0.alive }) { connection.process.terminate() }
        }
    }

    private func failHandshake(_ error: TmuxError) {
        let callback = state.withLock { state -> (@Sendable (Result<Handshake, TmuxError>) -> Void)? in
            defer { state.handshake = nil }
            if state.handshake != nil { state.handshakeFailure = error }
            return state.handshake
        }
        guard let callback else { return }
        callback(.failure(error))
        if error.code == .timedOut { process.terminate() }
    }

    private func readLoop() {
        var parser = TmuxProtocolParser()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = process.read(into: &buffer)
            if count == 0 { break }
            for event in parser.feed(buffer[0..<count]) { handle(event) }
        }
        for event in parser.finish() { handle(event) }
        finishStream()
    }

    private func handle(_ event: TmuxProtocolEvent) {
        switch event {
        case .reply(let reply):
            handle(reply)
        case .notification(let notification):
            handle(notification)
        }
    }

    private func handle(_ reply: TmuxReply) {
        enum Action {
            case complete(PendingCommand)
            case handshakeFailed(TmuxError)
            case unmatched
            case ignore
        }
        let action: Action = state.withLock { state in
            if !reply.isFromThisClient {
                // The start-up command's answer; later flags-0 blocks belong to commands tmux ran
                // on this client's behalf (hooks) and answer nothing we sent.
                guard state.handshake != nil else { return .ignore }
                if reply.succeeded {
                    state.initialReplies.append(reply)
                    return .ignore
                }
                let text = reply.text
                let error =
                    text.contains("no sessions") || text.contains("no server running")
                    ? TmuxError(.serverNotRunning, text)
                    : TmuxError(.commandFailed, text)
                return .handshakeFailed(error)
            }
            guard state.pendingHead < state.pending.count else { return .unmatched }
            let command = state.pending[state.pendingHead]
            state.pendingHead += 1
            if state.pendingHead > 64 && state.pendingHead * 2 > state.pending.count {
                state.pending.removeFirst(state.pendingHead)
                state.pendingHead = 0
            }
            return .complete(command)
        }
        switch action {
        case .complete(let command):
            command.complete(.success(reply))
        case .handshakeFailed(let error):
            failHandshake(error)
        case .unmatched:
            onNotification(
                .protocolViolation(
                    line: "%begin \(reply.time) \(reply.number) \(reply.flags)",
                    reason: "a reply arrived for no command"))
        case .ignore:
            break
        }
    }

    private func handle(_ notification: TmuxNotification) {
        var ready: (callback: @Sendable (Result<Handshake, TmuxError>) -> Void, handshake: Handshake)?
        switch notification {
        case .sessionChanged(let id, let name):
            state.withLock { state in
                state.sessionID = id
                state.sessionName = name
                if let callback = state.handshake, !state.initialReplies.isEmpty {
                    state.handshake = nil
                    ready = (
                        callback, Handshake(initialReplies: state.initialReplies, sessionID: id, sessionName: name)
                    )
                }
            }
        case .sessionRenamed(let id, let name):
            state.withLock { state in
                if state.sessionID == id { state.sessionName = name }
            }
        case .exit(let reason):
            state.withLock { $0.exitReason = reason ?? "exited" }
        default:
            break
        }
        if let ready { ready.callback(.success(ready.handshake)) }
        onNotification(notification)
    }

    private func finishStream() {
        let errorOutput = process.readErrorOutput()
        process.reapAndClose()
        let (pending, handshake, error) = state.withLock { state in
            state.alive = false
            let reason: TmuxError
            if state.closing {
                reason = TmuxError(.closed, "the tmux client was closed")
            } else if let failure = state.handshakeFailure {
                reason = failure
            } else if let exit = state.exitReason {
                reason = TmuxError(.connectionLost, "tmux ended the control client: \(exit)")
            } else if errorOutput.contains("no server running") || errorOutput.contains("error connecting") {
                reason = TmuxError(.serverNotRunning, errorOutput)
            } else if !errorOutput.isEmpty {
                reason = TmuxError(.connectionLost, "tmux -C ended: \(errorOutput)")
            } else {
                reason = TmuxError(.connectionLost, "tmux -C closed the connection")
            }
            let pending = Array(state.pending[state.pendingHead...])
            state.pending = []
            state.pendingHead = 0
            defer { state.handshake = nil }
            return (pending, state.handshake, reason)
        }
        let endWaiters = state.withLock { state in
            defer { state.endWaiters = [] }
            return state.endWaiters
        }
        endWaiters.forEach { $0.resume() }
        if let handshake {
            handshake(
                .failure(
                    error.code == .connectionLost && !errorOutput.isEmpty
                        ? TmuxError(.spawnFailed, errorOutput) : error))
        }
        for command in pending {
            if command.expectsExit {
                command.complete(.success(TmuxReply(time: 0, number: -1, flags: 1, succeeded: true, lines: [])))
            } else {
                var failure = error
                failure.command = command.line
                command.complete(.failure(failure))
            }
        }
        onEnd(self, error)
    }
}

/// Gathers the replies of a pipelined batch and reports once, when all are in or one failed.
private final class TmuxReplyCollector: Sendable {
    private struct State {
        var replies: [TmuxReply?]
        var remaining: Int
        var completion: (@Sendable (Result<[TmuxReply], TmuxError>) -> Void)?
    }
    private let state: Mutex<State>

    init(count: Int, completion: @escaping @Sendable (Result<[TmuxReply], TmuxError>) -> Void) {
        state = Mutex(State(replies: Array(repeating: nil, count: count), remaining: count, completion: completion))
    }

    func deliver(_ result: Result<TmuxReply, TmuxError>, at index: Int) {
        let finished: (@Sendable (Result<[TmuxReply], TmuxError>) -> Void, Result<[TmuxReply], TmuxError>)? =
            state.withLock { state in
                guard let completion = state.completion else { return nil }
                switch result {
                case .failure(let error):
                    state.completion = nil
                    return (completion, .failure(error))
                case .success(let reply):
                    state.replies[index] = reply
                    state.remaining -= 1
                    guard state.remaining == 0 else { return nil }
                    state.completion = nil
                    return (completion, .success(state.replies.map { $0! }))
                }
            }
        if let finished { finished.0(finished.1) }
    }

    func fail(_ error: TmuxError) {
        let completion = state.withLock { state in
            defer { state.completion = nil }
            return state.completion
        }
        completion?(.failure(error))
    }
}
