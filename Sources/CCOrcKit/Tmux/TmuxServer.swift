import Foundation

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

    /// The socket path tmux itself would use, computed the way tmux 3.3a does:
    /// `$TMUX_TMPDIR` (or `/tmp`) + `/tmux-UID/` + name, or the first field of `$TMUX` for the
    /// default server when it is set.
    ///
    /// The client always passes this path with `-S`, so the value shown here is the one in use.
    public func socketPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
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
                throw TmuxError(.invalidName, "tmux server name \(name.debugDescription) must be non-empty and contain no '/'")
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

    private static func directory(_ environment: [String: String]) -> String {
        var base = environment["TMUX_TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        return "\(base)/tmux-\(getuid())"
    }
}

extension TmuxServer {
    /// The server ccorc's environment names: `CCORC_TMUX_SOCKET` (`-S`), else `CCORC_TMUX_SERVER`
    /// (`-L`), else the default server.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> TmuxServer {
        if let socket = environment["CCORC_TMUX_SOCKET"], !socket.isEmpty { return .socket(socket) }
        if let name = environment["CCORC_TMUX_SERVER"], !name.isEmpty { return .named(name) }
        return .default
    }
}
