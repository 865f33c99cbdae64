import FoundationEssentials

/// A tmux session as `list-sessions` reports it.
public struct TmuxSession: Sendable, Hashable {
    /// tmux's session id, `$N`; stable for the life of the session, unlike its name.
    public var id: String
    /// The session name.
    public var name: String
    /// The number of windows.
    public var windows: Int
    /// The number of clients attached that are not in control mode, so the figure is what a user
    /// would see: ccorc's control connections (this process's and other ccorc processes', such as a
    /// `ccorc watch` left running) are not counted.
    public var attached: Int
    /// The number of attached clients including control-mode clients (`#{session_attached}`).
    public var attachedIncludingControlClients: Int
    /// When the session was created.
    public var created: Date
    /// The last activity in the session.
    public var activity: Date
}

/// A tmux window.
public struct TmuxWindow: Sendable, Hashable {
    /// tmux's window id, `@N`.
    public var id: String
    /// The window's index in its session.
    public var index: Int
    /// The window name.
    public var name: String
    /// The id (`%N`) of the window's active pane (its only pane when just created).
    public var paneID: String
    /// The pid of the active pane's process.
    public var panePID: Int32
}

/// A tmux pane, as `list-panes -s` reports it.
public struct TmuxPane: Sendable, Hashable {
    /// tmux's pane id, `%N`.
    public var id: String
    /// The id (`@N`) of the pane's window.
    public var windowID: String
    /// The index of the pane's window in the session.
    public var windowIndex: Int
    /// The name of the pane's window.
    public var windowName: String
    /// The pane's index in its window.
    public var index: Int
    /// The pid of the process tmux started in the pane.
    public var pid: Int32
    /// Whether the pane's process has exited (the pane stays when `remain-on-exit` is on).
    public var isDead: Bool
    /// The exit status of a dead pane's process; nil while it runs or when a signal ended it.
    /// tmux sets the dead flag when the pty closes and the status when it reaps the process, so
    /// for a moment a dead pane can have no status yet.
    public var exitStatus: Int?
    /// The signal that ended a dead pane's process; nil otherwise.
    public var exitSignal: Int?
    /// Whether the pane is its window's active pane.
    public var isActive: Bool
    /// The name of the pane's foreground process (`#{pane_current_command}`).
    public var currentCommand: String
}

/// What `new-session` is asked to create.
public struct TmuxNewSessionOptions: Sendable, Hashable {
    /// The session name; `.` and `:` are rejected, as tmux would rewrite them.
    public var name: String
    /// The first window's name; nil lets tmux name it after the command.
    public var windowName: String?
    /// The command of the first window. One element runs through the shell (`sh -c`); several are
    /// executed directly as an argument vector. Empty starts the default shell.
    public var command: [String]
    /// The working directory of the session; nil keeps tmux's default.
    public var workingDirectory: String?
    /// Environment variables set for the session's first window (`-e NAME=VALUE`).
    public var environment: [String: String]
    /// The window width in columns; nil uses tmux's `default-size`.
    public var width: Int?
    /// The window height in lines; nil uses tmux's `default-size`.
    public var height: Int?

    /// Options for a new detached session.
    public init(
        name: String, windowName: String? = nil, command: [String] = [], workingDirectory: String? = nil,
        environment: [String: String] = [:], width: Int? = nil, height: Int? = nil
    ) {
        self.name = name
        self.windowName = windowName
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.width = width
        self.height = height
    }
}

/// What `new-window` is asked to create.
public struct TmuxNewWindowOptions: Sendable, Hashable {
    /// The window name; nil lets tmux name it after the command.
    public var name: String?
    /// The window's command; one element runs through the shell, several are executed directly.
    public var command: [String]
    /// The working directory; nil keeps the session's.
    public var workingDirectory: String?
    /// Environment variables set for the window (`-e NAME=VALUE`).
    public var environment: [String: String]
    /// Whether the new window becomes the session's current window (false passes `-d`).
    public var select: Bool
    /// Where the window goes among the session's windows.
    public var position: TmuxWindowPosition

    /// Options for a new window that does not become current.
    public init(
        name: String? = nil, command: [String] = [], workingDirectory: String? = nil,
        environment: [String: String] = [:], select: Bool = false, position: TmuxWindowPosition = .firstFreeIndex
    ) {
        self.name = name
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.select = select
        self.position = position
    }
}

/// Where `new-window` puts a window.
public enum TmuxWindowPosition: Sendable, Hashable {
    /// The first free index from `base-index` (`new-window -t =SESSION:`).
    case firstFreeIndex
    /// Right after the window with this id, moving later windows up one index (`-a -t @N`).
    case after(windowID: String)
    /// Right before the window with this id, moving it and later windows up (`-b -t @N`).
    case before(windowID: String)
}

/// A tmux target (`-t`): a session by exact name, or a window or pane by id.
public struct TmuxTarget: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The text passed to `-t`.
    public var rawValue: String

    /// A target written in tmux's own syntax, passed as is.
    public init(raw: String) { rawValue = raw }

    /// A target written in tmux's own syntax, passed as is.
    public init(stringLiteral value: String) { rawValue = value }

    /// A session (its current window and pane) by exact name, `=NAME:`: without `=`, tmux would
    /// also accept a prefix or a pattern, and without `:` a pane or window target (send-keys,
    /// display-message) silently finds nothing in tmux 3.3a.
    public static func session(_ name: String) -> TmuxTarget { TmuxTarget(raw: "=" + name + ":") }

    /// A window of a session by exact session name and window name, `=SESSION:=WINDOW`.
    public static func window(session: String, window: String) -> TmuxTarget {
        TmuxTarget(raw: "=" + session + ":=" + window)
    }

    /// A window or pane by its id (`@N`, `%N`), or a session by id (`$N`).
    public static func id(_ id: String) -> TmuxTarget { TmuxTarget(raw: id) }

    /// The text passed to `-t`.
    public var description: String { rawValue }
}

/// Where `set-option` applies.
public enum TmuxOptionScope: Sendable, Hashable {
    /// A server option (`-s`).
    case server
    /// A session option (the default scope of `set-option`).
    case session
    /// A window option (`-w`).
    case window
    /// A pane option (`-p`).
    case pane
}

/// The formats the client asks tmux for, and the parsing of their rows.
///
/// Fields are separated by tabs: tmux writes tabs and newlines in session and window names as
/// `\t` and `\n` (`utf8_stravis`), so a real tab cannot occur inside a name. The one free-form
/// field, a pane's current command, comes last.
enum TmuxFormats {
    static let session =
        "#{session_id}\t#{session_windows}\t#{session_attached}\t#{session_created}\t#{session_activity}\t#{session_name}"
    /// A client's mode (1 for control mode) and its session's id.
    static let client = "#{client_control_mode}\t#{session_id}"
    static let window = "#{window_id}\t#{window_index}\t#{pane_id}\t#{pane_pid}\t#{window_name}"
    static let pane =
        "#{pane_id}\t#{window_id}\t#{window_index}\t#{pane_index}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_dead_signal}\t#{pane_active}\t#{window_name}\t#{pane_current_command}"

    /// Parses a `session` row; `controlClientSessionID` is the session this client's own control
    /// connection is attached to, which tmux counts in `session_attached`.
    ///
    /// Works on UTF-8 bytes: this runs for every session of every poll.
    static func session(_ line: String, controlClientSessionID: String?) throws -> TmuxSession {
        let fields = line.utf8.split(separator: 9, maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6, let windows = integer(fields[1]), let attached = integer(fields[2]),
            let created = integer(fields[3]), let activity = integer(fields[4])
        else { throw TmuxError(.protocolError, "unexpected session line from tmux: \(line.debugDescription)") }
        let id = String(decoding: fields[0], as: UTF8.self)
        let own = id == controlClientSessionID ? 1 : 0
        return TmuxSession(
            id: id, name: String(decoding: fields[5], as: UTF8.self), windows: windows,
            attached: max(0, attached - own), attachedIncludingControlClients: attached,
            created: Date(timeIntervalSince1970: TimeInterval(created)),
            activity: Date(timeIntervalSince1970: TimeInterval(activity)))
    }

    /// The number of clients not in control mode, by session id, from `client` rows.
    static func terminalClients(_ lines: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in lines where line.hasPrefix("0\t") {
            counts[String(line.dropFirst(2)), default: 0] += 1
        }
        return counts
    }

    /// A non-negative decimal integer, or nil.
    private static func integer(_ digits: Substring.UTF8View) -> Int? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    static func window(_ line: String) throws -> TmuxWindow {
        let fields = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, let index = Int(fields[1]), let pid = Int32(fields[3])
        else { throw TmuxError(.protocolError, "unexpected window line from tmux: \(line.debugDescription)") }
        return TmuxWindow(
            id: String(fields[0]), index: index, name: String(fields[4]), paneID: String(fields[2]), panePID: pid)
    }

    /// Parses `list-panes` rows; a line not starting with a pane id continues the previous row's
    /// command (a process name with a newline in it).
    static func panes(_ lines: [String]) throws -> [TmuxPane] {
        var panes: [TmuxPane] = []
        for line in lines {
            let fields = line.split(separator: "\t", maxSplits: 10, omittingEmptySubsequences: false)
            guard fields.count == 11, fields[0].hasPrefix("%") else {
                if !panes.isEmpty {
                    panes[panes.count - 1].currentCommand += "\n" + line
                    continue
                }
                throw TmuxError(.protocolError, "unexpected pane line from tmux: \(line.debugDescription)")
            }
            guard let windowIndex = Int(fields[2]), let index = Int(fields[3]), let pid = Int32(fields[4])
            else { throw TmuxError(.protocolError, "unexpected pane line from tmux: \(line.debugDescription)") }
            panes.append(
                TmuxPane(
                    id: String(fields[0]), windowID: String(fields[1]), windowIndex: windowIndex,
                    windowName: String(fields[9]), index: index, pid: pid, isDead: fields[5] == "1",
                    exitStatus: Int(fields[6]), exitSignal: Int(fields[7]), isActive: fields[8] == "1",
                    currentCommand: String(fields[10])))
        }
        return panes
    }
}
