#if canImport(Glibc)
    import Glibc
#endif

/// Which tmux server a client talks to: tmux's `-L` and `-S` options.
public enum TmuxServer: Sendable, Hashable, CustomStringConvertible {
    /// The user's default server: the one named by `$TMUX` when set, else `default` in tmux's
    /// socket directory.
    case `default`
    /// A server named with `tmux -L NAME`, in tmux's socket directory.
    case named(String)
    /// A server on an explicit socket path, as `tmux -S PATH`.
    case socket(String)

    /// The socket path tmux itself would use, computed the way tmux 3.3a does: the real path of
    /// `$TMUX_TMPDIR` (or of `/tmp` when that is unset, empty or does not exist) + `/tmux-UID/` +
    /// name, or the first field of `$TMUX` for the default server when it is set.
    ///
    /// The client always passes this path with `-S`, so the value shown here is the one in use.
    public func socketPath(environment: [String: String] = ProcessEnvironment.current) -> String {
        switch self {
        case .socket(let path):
            return path
        case .named(let name):
            return Self.directory(environment) + "/" + name
        case .default:
            if let tmux = environment["TMUX"], let path = tmux.split(separator: ",").first, !path.isEmpty {
                return String(path)
            }
            return Self.directory(environment) + "/default"
        }
    }

    /// Checks the server name or socket path before anything is started.
    ///
    /// - Throws: `TmuxError` with `.invalidName` for an empty name, a name with `/`, or an empty path.
    public func validate() throws {
        switch self {
        case .default:
            return
        case .named(let name):
            if name.isEmpty || name.contains("/") || name.utf8.contains(0) {
                throw TmuxError(
                    .invalidName, "tmux server name \(name.debugDescription) must be non-empty and contain no '/'")
            }
        case .socket(let path):
            if path.isEmpty || path.utf8.contains(0) {
                throw TmuxError(.invalidName, "tmux socket path \(path.debugDescription) is not usable")
            }
        }
    }

    /// `default`, `-L NAME` or `-S PATH`, for messages.
    public var description: String {
        switch self {
        case .default: return "default tmux server"
        case .named(let name): return "tmux server -L \(name)"
        case .socket(let path): return "tmux server -S \(path)"
        }
    }

    /// The per-user socket directory of `-L` and the default server, `nil` for an explicit socket
    /// or a default server that `$TMUX` names.
    public func socketDirectory(environment: [String: String] = ProcessEnvironment.current) -> String? {
        switch self {
        case .socket: return nil
        case .named: return Self.directory(environment)
        case .default:
            if let tmux = environment["TMUX"], let path = tmux.split(separator: ",").first, !path.isEmpty { return nil }
            return Self.directory(environment)
        }
    }

    /// Makes sure a server can be started on this socket, as tmux does before it starts one: the
    /// per-user directory is created (mode 700) when missing and refused when it is not a
    /// directory, belongs to another user or is open to others; an explicit socket's directory
    /// must exist.
    ///
    /// tmux checks this itself only when it resolves the socket from `-L` or the default; with
    /// `-S PATH` (what this client passes) it prints "error creating PATH" and still exits 0.
    ///
    /// - Throws: `TmuxError` with `.socketDirectory`, naming the directory and what to do.
    public func prepareSocketDirectory(environment: [String: String] = ProcessEnvironment.current) throws {
        guard let directory = socketDirectory(environment: environment) else {
            let parent = Path.parent(socketPath(environment: environment))
            var status = stat()
            guard stat(parent.isEmpty ? "." : parent, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
                throw TmuxError(
                    .socketDirectory, "the directory \(parent) of the tmux socket does not exist", systemError: errno)
            }
            return
        }
        if mkdir(directory, S_IRWXU) != 0 && errno != EEXIST {
            throw TmuxError(.socketDirectory, "cannot create tmux's socket directory \(directory)", systemError: errno)
        }
        var status = stat()
        guard lstat(directory, &status) == 0 else {
            throw TmuxError(.socketDirectory, "cannot read tmux's socket directory \(directory)", systemError: errno)
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw TmuxError(
                .socketDirectory,
                "tmux's socket directory \(directory) is not a directory: remove it or set TMUX_TMPDIR")
        }
        let uid = getuid()
        guard status.st_uid == uid, status.st_mode & 0o007 == 0 else {
            let mode = String(status.st_mode & 0o7777, radix: 8)
            throw TmuxError(
                .socketDirectory,
                "tmux's socket directory \(directory) has unsafe permissions (owner uid \(status.st_uid), mode \(mode)); tmux refuses it: "
                    + (status.st_uid == uid
                        ? "`chmod 700 \(directory)`" : "remove it, or set TMUX_TMPDIR to a directory of your own"))
        }
    }

    private static func directory(_ environment: [String: String]) -> String {
        // tmux takes the first of `$TMUX_TMPDIR` and `/tmp` that resolves, through realpath(3).
        let candidates = [environment["TMUX_TMPDIR"], "/tmp"].compactMap { $0 }.filter { !$0.isEmpty }
        let base = candidates.lazy.compactMap(realPath).first ?? "/tmp"
        return "\(base == "/" ? "" : base)/tmux-\(getuid())"
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

extension TmuxServer {
    /// The server ccorc's environment names: `CCORC_TMUX_SOCKET` (`-S`), else `CCORC_TMUX_SERVER`
    /// (`-L`), else the default server.
    public static func fromEnvironment(_ environment: [String: String] = ProcessEnvironment.current) -> TmuxServer {
        if let socket = environment["CCORC_TMUX_SOCKET"], !socket.isEmpty { return .socket(socket) }
        if let name = environment["CCORC_TMUX_SERVER"], !name.isEmpty { return .named(name) }
        return .default
    }
}
