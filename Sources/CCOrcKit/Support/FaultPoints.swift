import Glibc
import Synchronization

/// A named step of a session operation at which a test can make the operation fail or the process
/// die (see `FaultInjection`). The raw value is what `CCORC_FAIL_AT` names.
public enum FaultPoint: String, CaseIterable, Sendable {
    /// Launch: making tmux's socket directory.
    case launchPrepareTmux = "launch.prepare-tmux"
    /// Launch: creating the agents' volumes (the name is claimed in the registry by then).
    case launchVolumes = "launch.volumes"
    /// Launch: creating the containers.
    case launchContainers = "launch.containers"
    /// Launch: starting the containers.
    case launchStart = "launch.start"
    /// Launch: creating the tmux session with its first window.
    case launchTmuxSession = "launch.tmux-session"
    /// Launch: opening each window after the first; never reached by a one-agent session.
    case launchTmuxWindow = "launch.tmux-window"
    /// Launch: committing the registry entry, the last step.
    case launchCommit = "launch.commit"
    /// Resume: opening each agent window after a recreated tmux session's first, or each window
    /// added to a tmux session that lacks some.
    case resumeTmuxWindow = "resume.tmux-window"
    /// Move: copying the image to the target (the session is stopped by then).
    case moveImage = "move.image"
    /// Move: creating the volumes on the target and copying their files.
    case moveVolumes = "move.volumes"
    /// Move: creating the containers on the target.
    case moveContainers = "move.containers"
    /// Move: comparing the volumes on both engines.
    case moveVerify = "move.verify"
    /// Move: registering the session on the target, the step after which the move is done.
    case moveCommit = "move.commit"
    /// Move: removing the containers and volumes from the source, after the commit.
    case moveRemoveSource = "move.remove-source"
}

/// The side effects that `CCORC_FAIL_STEP` counts, one step each.
public enum FaultStepKind: String, Sendable {
    /// An engine request (one HTTP exchange).
    case engine
    /// A tmux command line, or a batch of them written together, or the `tmux new-session` process
    /// that starts a server.
    case tmux
    /// A registry write (one transaction).
    case registry
}

/// A testing hook: the steps at which a session operation fails on purpose, so that tests can check
/// that what a failure or a crash at any step leaves behind is what the README promises.
///
/// Off unless asked for, and compiled into debug builds only: a release build ignores the
/// variables below. The CLI reads them once at start and hands the one instance to the engine
/// client, the tmux client, the registry and the session manager.
/// - `CCORC_FAIL_AT`: a comma-separated list of named steps (`FaultPoint`): `POINT` (the step fails
///   with an error, as if its own work had failed), `POINT:kill` (the process sends itself SIGKILL
///   there) or `POINT:interrupt` (it sends itself SIGINT, as a user's Ctrl-C would), e.g.
///   `CCORC_FAIL_AT=launch.commit:kill`. Each point is checked as its step begins.
/// - `CCORC_FAIL_STEP=N[:ACTION]`: the Nth side effect of the process (counted from 1 over every
///   engine request, tmux command and registry write, see `FaultStepKind`) fails with its own
///   kind of error (an `EngineError`, `TmuxError` or `RegistryError`), or the process is killed or
///   interrupted just before it is made. A crash-point sweep runs a command once per N.
/// - `CCORC_STEP_TRACE=PATH`: each counted step is appended to PATH as `N KIND WHAT`, so that a
///   sweep knows how many steps a command takes.
public final class FaultInjection: Sendable {
    /// What happens at a point.
    public enum Action: String, Sendable {
        /// The step throws: `SessionError(.stepFailed)` at a named point, the step's own kind of
        /// error at a counted step.
        case fail
        /// The process sends itself SIGKILL: nothing after this point runs, no rollback included.
        case kill
        /// The process sends itself SIGINT, as a user's Ctrl-C would, and the step goes on.
        case interrupt
    }

    /// The named points that fire, with what they do.
    public let actions: [FaultPoint: Action]
    /// The counted step at which `stepAction` fires, from 1; nil for none.
    public let failingStep: Int?
    /// What happens at `failingStep`.
    public let stepAction: Action
    /// Where each counted step is recorded, if anywhere.
    public let tracePath: String?
    private let stepsTaken = Mutex(0)

    /// The given faults; none by default, which is what every non-test caller gets.
    public init(
        _ actions: [FaultPoint: Action] = [:], failingStep: Int? = nil, stepAction: Action = .fail,
        tracePath: String? = nil
    ) {
        self.actions = actions
        self.failingStep = failingStep
        self.stepAction = stepAction
        self.tracePath = tracePath
    }

    /// The faults named by `CCORC_FAIL_AT`, `CCORC_FAIL_STEP` and `CCORC_STEP_TRACE` in
    /// `environment`; none when they are unset or empty, and always none in a release build.
    /// - Throws: `SessionError` with `.invalidArgument` for a point, step or action it does not
    ///   know, so that a misspelt test hook fails loudly instead of testing nothing.
    public convenience init(environment: [String: String]) throws {
        #if DEBUG
            var actions: [FaultPoint: Action] = [:]
            for item in (environment["CCORC_FAIL_AT"] ?? "").split(separator: ",") {
                let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingWhitespace() }
                guard let point = FaultPoint(rawValue: parts[0]) else {
                    let known = FaultPoint.allCases.map(\.rawValue).joined(separator: ", ")
                    throw SessionError(
                        .invalidArgument,
                        "CCORC_FAIL_AT: unknown fault point \(parts[0].debugDescription) (known: \(known))")
                }
                actions[point] = try Self.action(parts, variable: "CCORC_FAIL_AT", for: point.rawValue)
            }
            var failingStep: Int?
            var stepAction = Action.fail
            if let text = environment["CCORC_FAIL_STEP"], !text.isEmpty {
                let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingWhitespace() }
                guard let step = Int(parts[0]), step >= 1 else {
                    throw SessionError(
                        .invalidArgument,
                        "CCORC_FAIL_STEP: \(parts[0].debugDescription) is not a step number (1, 2, ...)")
                }
                failingStep = step
                stepAction = try Self.action(parts, variable: "CCORC_FAIL_STEP", for: "step \(step)")
            }
            let trace = environment["CCORC_STEP_TRACE"].flatMap { $0.isEmpty ? nil : $0 }
            self.init(actions, failingStep: failingStep, stepAction: stepAction, tracePath: trace)
        #else
            self.init()
        #endif
    }

    private static func action(_ parts: [String], variable: String, for subject: String) throws -> Action {
        guard parts.count == 2 else { return .fail }
        guard let action = Action(rawValue: parts[1]) else {
            throw SessionError(
                .invalidArgument,
                "\(variable): unknown action \(parts[1].debugDescription) for \(subject) (fail, kill or interrupt)")
        }
        return action
    }

    /// Fires `point` if it was asked for: throws, or ends the process.
    func check(_ point: FaultPoint) throws {
        #if DEBUG
            guard let action = actions[point] else { return }
            if case .fail = action {
                throw SessionError(.stepFailed, "fault injected at \(point.rawValue) (CCORC_FAIL_AT)")
            }
            Self.signal(action, at: point.rawValue)
        #endif
    }

    /// Counts one side effect about to be made; returns the message of the failure the caller
    /// must throw instead of making it, or nil to go on. Kills or interrupts the process there
    /// when asked to.
    func failure(of kind: FaultStepKind, _ what: @autoclosure () -> String) -> String? {
        #if DEBUG
            guard failingStep != nil || tracePath != nil else { return nil }
            let step = stepsTaken.withLock { count in
                count += 1
                if let tracePath { Self.append("\(count) \(kind.rawValue) \(what())\n", to: tracePath) }
                return count
            }
            guard step == failingStep else { return nil }
            if case .fail = stepAction {
                let subject = what()
                return
                    "fault injected at step \(step), \(kind.rawValue) \(subject.count > 60 ? subject.prefix(57) + "..." : subject) (CCORC_FAIL_STEP)"
            }
            Self.signal(stepAction, at: "step \(step)")
        #endif
        return nil
    }

    #if DEBUG
        private static func signal(_ action: Action, at place: String) {
            switch action {
            case .fail:
                return
            case .interrupt:
                kill(getpid(), SIGINT)
            case .kill:
                kill(getpid(), SIGKILL)
                // SIGKILL cannot be caught; the process is gone before this line.
                fatalError("SIGKILL at \(place) did not end the process")
            }
        }

        private static func append(_ line: String, to path: String) {
            appendToFile(path, Array(line.utf8))
        }
    #endif
}
