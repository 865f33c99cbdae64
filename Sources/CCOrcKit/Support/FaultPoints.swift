import Foundation

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
}

/// A testing hook: the steps at which a session operation fails on purpose, so that tests can check
/// that what a failure or a crash at any step leaves behind is what the README promises.
///
/// Off unless asked for. The CLI reads it once at start from `CCORC_FAIL_AT`, a comma-separated list
/// of `POINT` (the step fails with an error, as if its own work had failed), `POINT:kill` (the
/// process sends itself SIGKILL there, for crash-consistency tests) or `POINT:interrupt` (it sends
/// itself SIGINT, as a user's Ctrl-C would), e.g.
/// `CCORC_FAIL_AT=launch.tmux-window` or `CCORC_FAIL_AT=launch.commit:kill`. Each point is checked
/// as its step begins, after everything before it is done.
public struct FaultInjection: Sendable {
    /// What happens at a point.
    public enum Action: String, Sendable {
        /// The step throws `SessionError` with code `.stepFailed`.
        case fail
        /// The process sends itself SIGKILL: nothing after this point runs, no rollback included.
        case kill
        /// The process sends itself SIGINT, as a user's Ctrl-C would, and the step goes on.
        case interrupt
    }

    /// The points that fire, with what they do.
    public let actions: [FaultPoint: Action]

    /// No faults: what every non-test caller gets.
    public init(_ actions: [FaultPoint: Action] = [:]) {
        self.actions = actions
    }

    /// The faults named by `CCORC_FAIL_AT` in `environment`; none when it is unset or empty.
    /// - Throws: `SessionError` with `.invalidArgument` for a point or action it does not know, so
    ///   that a misspelt test hook fails loudly instead of testing nothing.
    public init(environment: [String: String]) throws {
        var actions: [FaultPoint: Action] = [:]
        for item in (environment["CCORC_FAIL_AT"] ?? "").split(separator: ",") {
            let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let point = FaultPoint(rawValue: parts[0]) else {
                let known = FaultPoint.allCases.map(\.rawValue).joined(separator: ", ")
                throw SessionError(.invalidArgument, "CCORC_FAIL_AT: unknown fault point \(parts[0].debugDescription) (known: \(known))")
            }
            guard let action = parts.count == 1 ? .fail : Action(rawValue: parts[1]) else {
                throw SessionError(.invalidArgument, "CCORC_FAIL_AT: unknown action \(parts[1].debugDescription) for \(point.rawValue) (fail, kill or interrupt)")
            }
            actions[point] = action
        }
        self.init(actions)
    }

    /// Fires `point` if it was asked for: throws, or ends the process.
    func check(_ point: FaultPoint) throws {
        switch actions[point] {
        case nil:
            return
        case .fail:
            throw SessionError(.stepFailed, "fault injected at \(point.rawValue) (CCORC_FAIL_AT)")
        case .interrupt:
            kill(getpid(), SIGINT)
        case .kill:
            kill(getpid(), SIGKILL)
            // SIGKILL cannot be caught; the process is gone before this line.
            fatalError("SIGKILL at \(point.rawValue) did not end the process")
        }
    }
}
