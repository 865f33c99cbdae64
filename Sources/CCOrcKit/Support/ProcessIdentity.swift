import Glibc

/// A process told apart from any later one that reuses its pid: the pid and the process's start
/// time (field 22 of `/proc/PID/stat`, in clock ticks since boot).
///
/// A launch records the identity of the process doing it in its registry row, so that any later
/// command can tell at once whether that launch is still under way or died (SIGKILL, a crash, a
/// reboot) without waiting for the row to grow old.
public struct ProcessIdentity: Sendable, Equatable {
    /// The process id.
    public var pid: Int32
    /// When it started, in clock ticks since boot.
    public var startTime: UInt64

    /// An identity; see the properties.
    public init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    /// This process; nil where `/proc` cannot be read.
    public static var current: ProcessIdentity? { of(getpid()) }

    /// The process running as `pid` now; nil when there is none (or `/proc` cannot be read).
    public static func of(_ pid: Int32) -> ProcessIdentity? {
        stat(of: pid).flatMap(startTime(fromStat:)).map { ProcessIdentity(pid: pid, startTime: $0) }
    }

    /// Whether the very process this identity names is still running (a zombie counts as gone).
    public var isAlive: Bool {
        guard let stat = Self.stat(of: pid), Self.startTime(fromStat: stat) == startTime else { return false }
        let state = Self.state(fromStat: stat)
        return state != "Z" && state != "X"
    }

    private static func stat(of pid: Int32) -> String? {
        SysFile.read("/proc/\(pid)/stat")
    }

    /// The start time in a `/proc/PID/stat` line. The command name (field 2) is in parentheses
    /// and may itself hold spaces and parentheses, so fields are counted from the last `)`.
    static func startTime(fromStat stat: String) -> UInt64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // After ") ": field 3 (state) is index 0, so field 22 is index 19.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// The state letter (field 3) in a `/proc/PID/stat` line.
    static func state(fromStat stat: String) -> String? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    /// `PID:STARTTIME@HOST`: the identity in a label value, with the host it runs on, for
    /// what is made on an engine that other hosts may share.
    public var labelValue: String { "\(pid):\(startTime)@\(Self.hostName)" }

    /// Reads a `labelValue`: the identity and its host; nil when it is not one.
    public static func fromLabel(_ value: String) -> (identity: ProcessIdentity, host: String)? {
        guard let at = value.firstIndex(of: "@") else { return nil }
        let parts = value[..<at].split(separator: ":")
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, let start = UInt64(parts[1]) else { return nil }
        return (ProcessIdentity(pid: pid, startTime: start), String(value[value.index(after: at)...]))
    }

    /// This machine's host name (`gethostname`).
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `{"pid", "startTime"}`, as a launch records it.
    public var jsonValue: JSONValue { ["pid": .int(Int64(pid)), "startTime": .int(Int64(clamping: startTime))] }

    /// Reads `{"pid", "startTime"}`; nil when either is missing.
    public init?(json: JSONValue?) {
        guard let pid = json?["pid"]?.int, let start = json?["startTime"]?.int, pid > 0, start >= 0 else { return nil }
        self.init(pid: Int32(clamping: pid), startTime: UInt64(start))
    }
}
