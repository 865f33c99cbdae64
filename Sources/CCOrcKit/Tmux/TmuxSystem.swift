import CShims

// The only file of the tmux client that touches C types and raw pointers: starting `tmux -C`
// with posix_spawn, the socket it talks over, and probing a server socket.

#if canImport(Glibc)
    import Glibc
#endif

/// An advisory lock (`flock`) beside a tmux server's socket, which every ccorc process takes
/// while it connects a control client to that server or makes or kills sessions on it.
///
/// tmux 3.3a crashes, with every session on the server, when a notification reaches a control
/// client that has said it is one but has not finished identifying itself (`segfault at 20` in
/// `control_write`; fixed upstream after 3.3a). Another control client attaching or detaching, or
/// a session appearing or closing, in that moment is enough: on this machine about 2 connections
/// in 100 crashed the server while other clients connected at the same time. With the lock, no
/// two ccorc processes open that window at once, and ccorc makes and kills no session while one
/// of its own clients is in it. The lock is only ever waited for a bounded time: a holder that
/// hangs costs the others a short delay, never their work.
final class TmuxServerLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Runs `body` holding the lock of the server at `socketPath`, or without it when it cannot be
    /// had within `patience` (or the lock file cannot be opened: a socket directory ccorc may not
    /// write to).
    static func around<Result>(
        socketPath: String, patience: Duration = .seconds(3), _ body: () async throws -> Result
    ) async throws -> Result {
        let lock = await acquire(path: socketPath + ".ccorc-lock", patience: patience)
        defer { lock?.release() }
        return try await body()
    }

    private static func acquire(path: String, patience: Duration) async -> TmuxServerLock? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        let deadline = ContinuousClock.now + patience
        // Non-blocking attempts: a thread of the cooperative pool must never sleep in flock.
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(descriptor)
                return nil
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return TmuxServerLock(descriptor: descriptor)
    }

    private func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// Probes a tmux server socket without starting a server.
enum TmuxSocketProbe {
    /// Whether something accepts connections on the Unix socket at `path`.
    ///
    /// tmux leaves its socket file behind when the server exits, and `tmux attach` would start a
    /// fresh server on a stale socket, so existence of the file is not enough: connect to it.
    static func isListening(at path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}

/// A running `tmux -C` child: its pid, our end of the socket that is its stdin and stdout, and the
/// read end of its stderr.
///
/// stdin/stdout is a socketpair rather than a pipe so that writes can use `MSG_NOSIGNAL`: a write
/// after tmux has gone returns EPIPE instead of raising SIGPIPE in the whole program.
final class TmuxChildProcess: Sendable {
    /// The child's process id.
    let pid: pid_t
    /// Our end of the control socket.
    let controlDescriptor: Int32
    /// The read end of the child's stderr.
    let errorDescriptor: Int32

    private init(pid: pid_t, controlDescriptor: Int32, errorDescriptor: Int32) {
        self.pid = pid
        self.controlDescriptor = controlDescriptor
        self.errorDescriptor = errorDescriptor
    }

    /// Starts `executable` with `arguments` (argv[1...]) and the environment minus `TMUX` and
    /// `TMUX_PANE` (unless `keepingTmuxVariables`: a `switch-client` finds its client by them), in
    /// its own process group so that a terminal's Ctrl-C does not reach it.
    ///
    /// - Throws: `TmuxError.Code.spawnFailed` with the errno of the failed call.
    static func spawn(
        executable: String, arguments: [String], keepingTmuxVariables: Bool = false
    ) throws -> TmuxChildProcess {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw TmuxError(.spawnFailed, "socketpair for tmux -C failed", systemError: errno)
        }
        // stderr is a socketpair too: it can be created close-on-exec atomically (no pipe2 here).
        var errorPipe: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &errorPipe) == 0 else {
            let code = errno
            close(pair[0])
            close(pair[1])
            throw TmuxError(.spawnFailed, "pipe for tmux -C stderr failed", systemError: code)
        }
        let ours = pair[0]
        let childEnd = pair[1]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childEnd, 0)
        posix_spawn_file_actions_adddup2(&actions, childEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        // The server a first `new-session` starts lives on; it must not keep a descriptor the
        // caller inherited (its parent's output pipe, say) open after the caller exits.
        _ = cshims_spawn_close_from(&actions, 3)

        var attributes = cleanSignalSpawnAttributes(ownProcessGroup: true)
        defer { posix_spawnattr_destroy(&attributes) }

        let argv = [executable] + arguments
        let environment = ProcessEnvironment.current
            .filter { keepingTmuxVariables || ($0.key != "TMUX" && $0.key != "TMUX_PANE") }
            .map { "\($0.key)=\($0.value)" }

        var pid: pid_t = 0
        let status = withCStringArray(argv) { argvPointer in
            withCStringArray(environment) { environmentPointer in
                executable.contains("/")
                    ? posix_spawn(&pid, executable, &actions, &attributes, argvPointer, environmentPointer)
                    : posix_spawnp(&pid, executable, &actions, &attributes, argvPointer, environmentPointer)
            }
        }
        close(childEnd)
        close(errorPipe[1])
        shutdown(errorPipe[0], Int32(SHUT_WR))
        guard status == 0 else {
            close(ours)
            close(errorPipe[0])
            throw TmuxError(.spawnFailed, "cannot start \(executable)", systemError: status)
        }
        return TmuxChildProcess(pid: pid, controlDescriptor: ours, errorDescriptor: errorPipe[0])
    }

    /// Runs `executable ARGUMENTS` to completion on a thread of its own (not the cooperative
    /// pool) and returns its exit status, stdout and stderr.
    static func run(
        executable: String, arguments: [String], keepingTmuxVariables: Bool = false
    ) async throws -> (status: Int32, output: String, errorOutput: String) {
        let process = try spawn(
            executable: executable, arguments: arguments, keepingTmuxVariables: keepingTmuxVariables)
        process.shutdownWriting()
        return await withCheckedContinuation { continuation in
            startThread(named: "tmux-command") {
                continuation.resume(returning: process.collectUntilExit())
            }
        }
    }

    /// Runs `executable ARGUMENTS` to completion on the calling thread, which it blocks, and
    /// returns its exit status, stdout and stderr.
    static func runBlocking(
        executable: String, arguments: [String]
    ) throws -> (status: Int32, output: String, errorOutput: String) {
        let process = try spawn(executable: executable, arguments: arguments)
        process.shutdownWriting()
        return process.collectUntilExit()
    }

    /// Reads stdout to its end, then stderr, and reaps the child: its exit status (128 plus the
    /// signal number when a signal ended it), stdout and stderr.
    private func collectUntilExit() -> (status: Int32, output: String, errorOutput: String) {
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(into: &buffer)
            if count == 0 { break }
            output += buffer[0..<count]
        }
        let errorOutput = readErrorOutput()
        let status = reapAndClose()
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: output, as: UTF8.self), errorOutput)
    }

    /// Writes all of `bytes` to tmux's stdin.
    ///
    /// - Throws: `.connectionLost` with the errno when tmux has gone (EPIPE, ECONNRESET).
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                send(controlDescriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw TmuxError(.connectionLost, "cannot write to tmux -C", systemError: errno)
            }
            offset += written
        }
    }

    /// Blocks until tmux writes something into `buffer`; returns the byte count, 0 at end of stream.
    func read(into buffer: inout [UInt8]) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(controlDescriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            return max(count, 0)
        }
    }

    /// Tells tmux that no more commands will come (half-closes the socket).
    func shutdownWriting() {
        shutdown(controlDescriptor, Int32(SHUT_WR))
    }

    /// Reads what the child wrote to stderr; call only after the control stream has ended.
    func readErrorOutput() -> String {
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let flags = fcntl(errorDescriptor, F_GETFL)
        _ = fcntl(errorDescriptor, F_SETFL, flags | O_NONBLOCK)
        while collected.count < 65536 {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(errorDescriptor, $0.baseAddress, 4096) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            collected += buffer[0..<count]
        }
        return String(decoding: collected, as: UTF8.self).trimmingWhitespaceAndNewlines()
    }

    /// Sends SIGTERM to the child (only this pid, which this object started).
    func terminate() {
        kill(pid, SIGTERM)
    }

    /// Waits for the child to exit and closes our descriptors; returns its wait status.
    @discardableResult
    func reapAndClose() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(controlDescriptor)
        close(errorDescriptor)
        return status
    }
}

/// Spawn attributes that give the child every signal's default action and none blocked: an ignored
/// or blocked signal is inherited through exec, and a tmux server started with SIGTERM blocked never
/// exits on kill-server, one with SIGCHLD ignored never learns its panes' exit status. The caller
/// destroys them (`posix_spawnattr_destroy`).
/// - Parameter ownProcessGroup: also start the child in a process group of its own.
func cleanSignalSpawnAttributes(ownProcessGroup: Bool) -> posix_spawnattr_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var defaultSignals = sigset_t()
    sigfillset(&defaultSignals)
    sigdelset(&defaultSignals, SIGKILL)
    sigdelset(&defaultSignals, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
    var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    if ownProcessGroup {
        posix_spawnattr_setpgroup(&attributes, 0)
        flags |= POSIX_SPAWN_SETPGROUP
    }
    posix_spawnattr_setflags(&attributes, Int16(flags))
    return attributes
}

/// Calls `body` with a NULL-terminated `char *[]` of `strings`, valid only during the call.
private func withCStringArray<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
