import Glibc

/// The process's environment and the few facts about the machine that ccorc asks the system for,
/// read from libc (`environ`, `getenv`, `getpwuid_r`, `sysconf`) without Foundation's `ProcessInfo`.
public enum ProcessEnvironment {
    /// Every `NAME=value` entry of `environ` as a dictionary (`ProcessInfo.processInfo.environment`):
    /// split at the first `=`; entries without one are skipped, and of a name given twice the first wins, as `getenv` finds it.
    public static var current: [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "="), equals != text.startIndex {
                let name = String(text[..<equals])
                if result[name] == nil { result[name] = String(text[text.index(after: equals)...]) }
            }
            entry += 1
        }
        return result
    }

    /// The value of the variable `name` (`getenv(3)`); nil when it is not set.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The user's home directory: `HOME` in `environment` when set and not empty, else the
    /// password database's entry for the effective user (`getpwuid_r(3)`), else `/`.
    public static func homeDirectory(_ environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        return passwordDatabaseHome() ?? "/"
    }

    /// The processors this process may run on (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
    public static var activeProcessorCount: Int {
        max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)
    }

    /// The effective user's home directory in the password database; nil when it has no entry.
    private static func passwordDatabaseHome() -> String? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        // `pw_dir` points into `buffer`, so it is read while the buffer is still lent out.
        let home = buffer.withUnsafeMutableBufferPointer { storage -> String? in
            let status = getpwuid_r(geteuid(), &entry, storage.baseAddress!, storage.count, &found)
            guard status == 0, found != nil, let directory = entry.pw_dir else { return nil }
            return String(cString: directory)
        }
        guard let home else { return nil }
        return home.isEmpty ? nil : home
    }
}
