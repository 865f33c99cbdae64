import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What /proc tells of a process: CPU time, memory, children. Each reader returns nil once the
/// process is gone.
enum ProcessMeter {
    /// Clock ticks a second, the unit of /proc/PID/stat's times.
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime of `pid` in seconds (/proc/PID/stat fields 14 and 15: every thread's, those
    /// that have exited included), at the clock tick's resolution.
    static func cpuSeconds(_ pid: pid_t) -> Double? {
        guard let fields = statFields(pid), fields.count > 12, let user = Double(fields[11]),
            let system = Double(fields[12])
        else { return nil }
        return (user + system) / ticksPerSecond
    }

    /// The CPU time of every live thread of `pid` in seconds, at the scheduler's nanosecond
    /// resolution (the first field of each /proc/PID/task/TID/schedstat).
    static func threadCPUSeconds(_ pid: pid_t) -> Double? {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else {
            return nil
        }
        let nanoseconds = threads.compactMap { thread in
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/schedstat", encoding: .utf8))
                .flatMap { $0.split(separator: " ").first }.flatMap { UInt64($0) }
        }.reduce(0, +)
        return Double(nanoseconds) / 1e9
    }

    /// The pid of the process that serves the Unix socket at `path` (SO_PEERCRED of a connection).
    static func serverPID(socketPath path: String) -> pid_t? {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path.utf8)
            buffer[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { return nil }
        // struct ucred: pid, uid, gid (Glibc exports the type only under _GNU_SOURCE).
        var credentials: (pid: pid_t, uid: uid_t, gid: gid_t) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { return nil }
        return credentials.pid
    }

    /// VmRSS and VmHWM of `pid`, in KiB (/proc/PID/status).
    static func memory(_ pid: pid_t) -> (rss: Int, highWater: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func value(_ key: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        guard let rss = value("VmRSS"), let highWater = value("VmHWM") else { return nil }
        return (rss, highWater)
    }

    /// The live children of `parent`, from /proc.
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry), let fields = statFields(pid), fields.count > 1, fields[0] != "Z",
                pid_t(fields[1]) == parent
            else { return nil }
            return pid
        }
    }

    /// Whether `pid` (a child not yet reaped) has exited.
    static func isZombie(_ pid: pid_t) -> Bool {
        statFields(pid).map { $0.first == "Z" } ?? true
    }

    /// The pids of processes whose command name (/proc/PID/comm) is `name`.
    static func processes(named name: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry),
                let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
                comm.trimmingCharacters(in: .whitespacesAndNewlines) == name
            else { return nil }
            return pid
        }.sorted()
    }

    /// The fields of /proc/PID/stat after the command name: state (field 3) is index 0.
    private static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}

/// One short-lived run of a program, measured by the kernel: wall time, CPU time (user + system,
/// its own and its waited-for children's, from wait4's rusage) and peak RSS.
struct MeasuredRun {
    var status: Int32
    var seconds: Double
    var cpuSeconds: Double
    /// ru_maxrss, KiB.
    var maxRSS: Int

    /// Runs `arguments` (the program found on PATH) with `environment` set over the bench's, its
    /// output discarded, registered while it runs.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> MeasuredRun {
        try BenchResources.shared.checkpoint()
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard null >= 0 else { throw CommandFailed(description: "open /dev/null: \(String(cString: strerror(errno)))") }
        let start = DispatchTime.now().uptimeNanoseconds
        let spawned = spawnWithCleanSignals(
            arguments, input: nil, output: null, closing: nil, environment: environment)
        close(null)
        let pid = try spawned.get()
        let token = BenchResources.shared.track(pid: pid)
        let (status, usage) = BenchResources.shared.reapWithUsage(pid, token)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        func time(_ value: timeval) -> Double { Double(value.tv_sec) + Double(value.tv_usec) / 1e6 }
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return MeasuredRun(
            status: exitStatus, seconds: seconds, cpuSeconds: time(usage.ru_utime) + time(usage.ru_stime),
            maxRSS: Int(usage.ru_maxrss))
    }
}

/// A long-running child whose stdout is read line by line, each line stamped with the moment it
/// was read, so that a benchmark can wait for a line and tell when it appeared.
final class LineReadingProcess: @unchecked Sendable {
    /// One line of output and when it was read (`DispatchTime` nanoseconds).
    struct Line {
        var time: UInt64
        var text: String
    }

    let pid: pid_t
    private let token: BenchResources.ChildToken
    private let condition = NSCondition()
    private var lines: [Line] = []
    private var ended = false
    private let reaped = Mutex(false)

    /// Starts `arguments` with `environment` set over the bench's, stdout to a pipe this object
    /// reads until it closes, stderr to /dev/null.
    init(_ arguments: [String], environment: [String: String]) throws {
        try BenchResources.shared.checkpoint()
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw CommandFailed(description: "pipe: \(String(cString: strerror(errno)))") }
        // Close-on-exec: no other program the bench starts may hold the pipe open.
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawned = spawnWithCleanSignals(
            arguments, input: nil, output: ends[1], closing: ends[0], environment: environment)
        close(ends[1])
        do {
            pid = try spawned.get()
        } catch {
            close(ends[0])
            throw error
        }
        token = BenchResources.shared.track(pid: pid)
        let readEnd = ends[0]
        let thread = Thread { [self] in readLines(readEnd) }
        thread.name = "bench-line-reader"
        thread.start()
    }

    private func readLines(_ fd: Int32) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            let now = DispatchTime.now().uptimeNanoseconds
            pending += buffer[0..<count]
            var complete: [Line] = []
            while let newline = pending.firstIndex(of: 10) {
                complete.append(Line(time: now, text: String(decoding: pending[..<newline], as: UTF8.self)))
                pending.removeSubrange(...newline)
            }
            if !complete.isEmpty {
                condition.lock()
                lines += complete
                condition.broadcast()
                condition.unlock()
            }
        }
        close(fd)
        condition.lock()
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    /// Lines read so far.
    var lineCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return lines.count
    }

    /// The first line at or after index `from` that `matches` accepts, with its index; nil when
    /// none arrives within `timeout` seconds or the output ends first.
    func waitForLine(from: Int, timeout: Double, _ matches: (String) -> Bool) -> (index: Int, line: Line)? {
        let deadline = Date().addingTimeInterval(timeout)
        var next = from
        condition.lock()
        defer { condition.unlock() }
        while true {
            while next < lines.count {
                if matches(lines[next].text) { return (next, lines[next]) }
                next += 1
            }
            if ended || BenchResources.shared.stopSignal != nil { return nil }
            if !condition.wait(until: min(deadline, Date().addingTimeInterval(0.5))) && Date() >= deadline {
                return nil
            }
        }
    }

    /// Waits until no line has arrived for `quiet` seconds (at most `limit` seconds).
    /// - Returns: the number of lines read by then.
    func waitForQuiet(_ quiet: Double, limit: Double) -> Int {
        let deadline = Date().addingTimeInterval(limit)
        var seen = lineCount
        while Date() < deadline {
            Thread.sleep(forTimeInterval: quiet)
            let now = lineCount
            if now == seen { return now }
            seen = now
        }
        return seen
    }

    /// SIGTERM, SIGKILL if it is still there three seconds later, then reaps it; a second call
    /// does nothing.
    func stop() {
        guard
            reaped.withLock({ reaped in
                defer { reaped = true }
                return !reaped
            })
        else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while !ProcessMeter.isZombie(pid) && Date() < deadline { usleep(20_000) }
        if !ProcessMeter.isZombie(pid) { kill(pid, SIGKILL) }
        _ = BenchResources.shared.reap(pid, token)
    }
}
