import ArgumentParser
import CCOrcKit
import CLISupport
import Dispatch
import FoundationEssentials
import Glibc

struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A full-screen live table of sessions, fed by the engine's and tmux's events.",
        discussion: """
            One row per session: condition, running containers, tmux windows and clients, memory \
            and CPU of the running containers (read from their cgroup files, once a second, for the \
            rows on screen) and the health verdict. Keys: arrows, PgUp, PgDn, Home, End move; / \
            filters by name (a substring, or a glob with * ? [); n, m, c, v sort by name, memory, \
            CPU, verdict (again: reversed); Enter attaches (in a client of ccorc's tmux server, \
            that client switches and top keeps running); s and r stop and resume after a y/n; q or \
            Ctrl-C quits. Needs a terminal; `ccorc watch` prints the same changes as lines.
            """)
    @Option(help: "Shell-style pattern on session names, e.g. \"feature-*\".") var pattern: String?

    func run() async throws {
        try Self.requireTerminal()
        let filter = try watchFilter(names: [], pattern: pattern)
        let manager = try await Environment.manager()
        let screen = TopScreen(manager: manager, filter: filter)
        switch try await screen.run() {
        case .quit: return
        case .attach(let tmuxSession): try attachTerminal(to: tmuxSession)
        }
    }

    /// Fails unless both `input` and `output` are terminals: a table redrawn in place means nothing
    /// in a pipe or a file, where `ccorc watch` prints the same changes as lines.
    static func requireTerminal(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) throws {
        guard LocalTerminal.isTerminal(input), LocalTerminal.isTerminal(output) else { throw notATerminal }
    }

    static let notATerminal = CommandLineFailure("top needs a terminal; use `ccorc watch`")
}

/// The I/O around `TopState`: the watch stream, the keyboard, SIGWINCH, the once-a-second cgroup
/// reading and the operations, all turned into events that one loop applies and draws.
private final class TopScreen {
    enum Event: Sendable {
        case change(SessionChange)
        case watchFailed(any Error)
        case watchEnded
        case keys([UInt8])
        case inputEnded
        case resize
        case tick
        case redraw
        case operationDone(String)
    }

    enum Outcome {
        case quit
        case attach(tmuxSession: String)
    }

    /// The least time between two redraws caused by the watch, the usage reading or a resize. A
    /// key is drawn at once, so that holding an arrow key scrolls smoothly; keys come no faster
    /// than the terminal repeats them, and a frame writes only the lines that changed.
    static let redrawInterval = Duration.milliseconds(250)
    /// The least time between two readings of the cgroup files.
    static let usageInterval = Duration.seconds(1)

    let manager: SessionManager
    let filter: WatchFilter
    var state: TopState
    var meter = TopUsageMeter()
    let reader = CgroupReader()
    var lastFrame: [TopLine]?
    var lastDraw: ContinuousClock.Instant?
    var redrawPending = false
    var dirty = true
    /// Whether watch changes were applied since `visible` was last ordered.
    var orderStale = false
    var lastUsage: ContinuousClock.Instant?
    let clock = ContinuousClock()
    let start = ContinuousClock.now

    init(manager: SessionManager, filter: WatchFilter) {
        self.manager = manager
        self.filter = filter
        let size = LocalTerminal.size() ?? (24, 80)
        state = TopState(rows: size.rows, columns: size.columns)
    }

    func run() async throws -> Outcome {
        let made = AsyncStream<Event>.makeStream()
        let events = made.stream
        let continuation = made.continuation
        guard LocalTerminal.enterFullScreen() else { throw Top.notATerminal }
        // Whatever way the loop ends (a thrown error included), the terminal is given back first.
        defer { LocalTerminal.restore() }

        let manager = self.manager
        let filter = self.filter
        let usageInterval = Self.usageInterval
        let changes = manager.watch(filter)
        let watch = Task { await TopScreen.follow(changes, into: continuation) }
        let ticks = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: usageInterval)
                continuation.yield(.tick)
            }
        }
        let input = DispatchSource.makeReadSource(fileDescriptor: STDIN_FILENO, queue: .global())
        input.setEventHandler {
            if let bytes = LocalTerminal.readAvailable(STDIN_FILENO) {
                continuation.yield(.keys(bytes))
            } else {
                continuation.yield(.inputEnded)
                input.cancel()
            }
        }
        input.resume()
        signal(SIGWINCH, SIG_IGN)
        let resize = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        resize.setEventHandler { continuation.yield(.resize) }
        resize.resume()
        defer {
            watch.cancel()
            ticks.cancel()
            input.cancel()
            resize.cancel()
            signal(SIGWINCH, SIG_DFL)
            continuation.finish()
        }

        draw()
        for await event in events {
            var immediate = false
            switch event {
            case .change(let change):
                // Ordered once before the next draw, key or reading, not once per change.
                state.apply(change, reordering: false)
                orderStale = true
                if case .snapshot = change, lastUsage == nil {
                    settleOrder()
                    readUsage()
                }
                dirty = true
            case .watchFailed(let error): throw error
            case .watchEnded: return .quit
            case .inputEnded: return .quit
            case .keys(let bytes):
                settleOrder()
                for key in TopKey.decode(bytes) {
                    switch state.handle(key) {
                    case .none: break
                    case .quit: return .quit
                    case .attach(_, let tmuxSession):
                        // In a client of ccorc's tmux server, that client moves and top stays in
                        // its window; anywhere else the terminal goes to a new tmux client.
                        guard terminalHandOff() == .switchClient else { return .attach(tmuxSession: tmuxSession) }
                        switchClient(to: tmuxSession, continuation)
                    case .run(let operation, let session):
                        state.message = "\(operation == .stop ? "stopping" : "resuming") \(session)…"
                        perform(operation, session, continuation)
                    }
                }
                dirty = true
                immediate = true
            case .resize:
                settleOrder()
                if let size = LocalTerminal.size() { state.resize(rows: size.rows, columns: size.columns) }
                lastFrame = nil
                dirty = true
            case .tick:
                if let lastUsage, clock.now - lastUsage < Self.usageInterval - .milliseconds(50) { break }
                settleOrder()
                if state.onScreen.contains(where: { !$0.runningContainerIDs.isEmpty }) {
                    readUsage()
                    dirty = true
                }
            case .redraw:
                redrawPending = false
            case .operationDone(let message):
                state.message = message
                dirty = true
            }
            scheduleDraw(immediate: immediate, continuation)
        }
        return .quit
    }

    /// Forwards the watch stream's changes, then how it ended, as events.
    private static func follow(
        _ changes: AsyncThrowingStream<SessionChange, any Error>, into continuation: AsyncStream<Event>.Continuation
    ) async {
        do {
            for try await change in changes { continuation.yield(.change(change)) }
            continuation.yield(.watchEnded)
        } catch {
            continuation.yield(.watchFailed(error))
        }
    }

    /// Draws now when `immediate` or the last frame is old enough, else once it is.
    private func scheduleDraw(immediate: Bool, _ continuation: AsyncStream<Event>.Continuation) {
        guard dirty else { return }
        let now = clock.now
        if immediate || lastDraw.map({ now - $0 >= Self.redrawInterval }) ?? true {
            draw()
        } else if !redrawPending, let lastDraw {
            redrawPending = true
            let wait = Self.redrawInterval - (now - lastDraw)
            Task {
                try? await Task.sleep(for: wait)
                continuation.yield(.redraw)
            }
        }
    }

    private func settleOrder() {
        if orderStale { state.reorder() }
        orderStale = false
    }

    private func draw() {
        settleOrder()
        let lines = TopView.lines(state)
        let output = TopView.frame(from: lastFrame, to: lines)
        if !output.isEmpty { LocalTerminal.writeAll(STDOUT_FILENO, Array(output.utf8)) }
        lastFrame = lines
        lastDraw = clock.now
        dirty = false
    }

    /// Reads the cgroup files of the running containers of the rows on screen (no engine request).
    private func readUsage() {
        var readings: [String: [(id: String, usage: ResourceUsage?)]] = [:]
        for row in state.onScreen where !row.runningContainerIDs.isEmpty {
            readings[row.name] = row.runningContainerIDs.map { id in
                (id, try? reader.usage(containerID: id, includeLimits: false))
            }
        }
        let elapsed = clock.now - start
        let nanoseconds =
            UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        state.setUsage(meter.record(readings, at: nanoseconds))
        lastUsage = clock.now
    }

    /// Moves the tmux client top runs in to `tmuxSession`; only a failure shows, in the footer.
    private func switchClient(to tmuxSession: String, _ continuation: AsyncStream<Event>.Continuation) {
        let tmux = Environment.tmuxArguments()
        Task {
            do {
                try await TmuxHandOff.switchClient(tmux: tmux, session: tmuxSession)
            } catch {
                continuation.yield(.operationDone("cannot switch to \(tmuxSession): \(error)"))
            }
        }
    }

    /// Stops or resumes `session` as `ccorc stop` and `ccorc resume --detach` do; its outcome comes
    /// back as an event for the footer (the table follows the watch).
    private func perform(_ operation: TopOperation, _ session: String, _ continuation: AsyncStream<Event>.Continuation)
    {
        let manager = self.manager
        Task {
            let message: String
            do {
                let name = try parseNames([session])[0]
                switch operation {
                case .stop:
                    let outcomes = try await manager.stop([name])
                    if let error = outcomes.first?.error {
                        message = "\(session): \(error)"
                    } else {
                        message = outcomes.isEmpty ? "\(session) is not registered" : "stopped \(session)"
                    }
                case .resume:
                    let status = try await manager.resume(name)
                    message = "resumed \(session): \(status.runningCount)/\(status.agents.count) running"
                }
            } catch {
                message = "\(session): \(error)"
            }
            continuation.yield(.operationDone(String(message.split(separator: "\n").first ?? "")))
        }
    }
}
