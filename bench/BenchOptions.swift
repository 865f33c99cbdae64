import Foundation

/// What `ccorc-bench` was asked to do, decided from its arguments alone (no I/O here).
struct BenchOptions: Equatable {
    /// The suites `all` (or no suite at all) runs; `cleanup-jobs` is slow and `cleanup-crash` a
    /// check rather than a figure: both are left out.
    static let defaultSuites = [
        "engine", "tmux", "exec", "sessions", "health", "watch", "cleanup", "abi", "engines", "move",
    ]
    /// Every suite, in the order a run takes them, with what each measures.
    static let catalog: [(name: String, summary: String)] = [
        ("engine", "Engine API round trips, listing --containers N created containers, cgroup reads"),
        ("tmux", "one control-mode pipe against a tmux process per query (private server, 100 sessions)"),
        ("sessions", "ccorc list over --sessions N registered sessions; launch and stop of 20"),
        ("cleanup", "ccorc cleanup of --sessions N launch-made sessions beside curl DELETEs and docker rm -f"),
        ("cleanup-jobs", "cleanup throughput at --jobs 4 to 64 (slow; not part of all)"),
        ("cleanup-crash", "ccorc cleanup SIGKILLed after 1 s, then run again (--crash-*; not part of all)"),
        ("health", "ccorc health --all and ccorc export --all beside the engine's stats and docker inspect"),
        ("watch", "ccorc watch over --sessions N idle sessions beside ccorc list and claude-squad's polling"),
        ("abi", "ccorc_list_sessions through the C ABI (needs ccorc-abi-bench, which make bench builds)"),
        ("exec", "ccdk exec start-up beside the docker CLI, and launch to a remote shell's prompt"),
        ("engines", "ccorc list over 3 engines of --engine-sessions N sessions each beside each engine's own list"),
        (
            "move",
            "ccorc move of a session with a 100 MiB state volume to a second engine beside curl piping the archive"
        ),
    ]

    var suites: Set<String> = Set(defaultSuites)
    var containers = 1000
    var sessions = 1000
    /// `ccorc cleanup --jobs` for the cleanup suite; nil leaves ccorc's default.
    var jobs: Int?
    var abiSessions = 100
    var abiCalls = 1000
    /// Sessions each round of the crash check plants.
    var crashSessions = 300
    /// Rounds of the crash check.
    var crashRounds = 3
    /// Seconds the crash check lets `ccorc cleanup` run before it kills it.
    var crashAfter = 1.0
    /// Seconds of each idle window of the watch suite.
    var watchSeconds = 60.0
    /// Kills and window closes the watch suite times, each.
    var watchRounds = 20
    /// Sessions the engines suite registers on each of its three engines.
    var engineSessions = 300

    /// The outcome of reading the command line.
    enum Parsed: Equatable {
        case run(BenchOptions)
        case help
        /// A usage error, as one line without the program name.
        case usageError(String)
    }

    /// Reads `arguments` (without the program name). `-h`/`--help` anywhere asks for the usage.
    static func parse(_ arguments: [String]) -> Parsed {
        if arguments.contains("-h") || arguments.contains("--help") { return .help }
        var options = BenchOptions()
        var named: Set<String> = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let count: WritableKeyPath<BenchOptions, Int>?
            switch argument {
            case "--containers": count = \.containers
            case "--sessions": count = \.sessions
            case "--abi-sessions": count = \.abiSessions
            case "--abi-calls": count = \.abiCalls
            case "--crash-sessions": count = \.crashSessions
            case "--crash-rounds": count = \.crashRounds
            case "--watch-rounds": count = \.watchRounds
            case "--engine-sessions": count = \.engineSessions
            case "--jobs": count = nil
            case "--crash-after", "--watch-seconds":
                guard index < arguments.count, let value = Double(arguments[index]), value > 0, value.isFinite else {
                    return .usageError("\(argument) needs a positive number of seconds")
                }
                index += 1
                if argument == "--crash-after" { options.crashAfter = value } else { options.watchSeconds = value }
                continue
            case "all":
                named.formUnion(defaultSuites)
                continue
            case let name where catalog.contains(where: { $0.name == name }):
                named.insert(name)
                continue
            default:
                return .usageError("unknown argument '\(argument)' (see ccorc-bench --help)")
            }
            guard index < arguments.count, let value = Int(arguments[index]), value > 0 else {
                return .usageError("\(argument) needs a positive whole number")
            }
            index += 1
            if let count { options[keyPath: count] = value } else { options.jobs = value }
        }
        if !named.isEmpty { options.suites = named }
        return .run(options)
    }

    /// The text `--help` prints.
    static var usage: String {
        let width = catalog.map(\.name.count).max()! + 2
        let suiteLines = catalog.map {
            "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary
        }
        return """
            USAGE: ccorc-bench [SUITE...] [--containers N] [--sessions N] [--jobs N] [--abi-sessions N] [--abi-calls N]
                               [--crash-sessions N] [--crash-rounds N] [--crash-after SECONDS]
                               [--watch-seconds SECONDS] [--watch-rounds N] [--engine-sessions N]

            Runs ccorc's benchmarks against the local Docker engine and tmux, and prints each figure
            beside its peer from the same run. The engine is DOCKER_HOST or /var/run/docker.sock.

            SUITES (default: all):
            \(suiteLines.joined(separator: "\n"))
              all            every suite above except cleanup-jobs and cleanup-crash

            OPTIONS:
              --containers N      containers the engine suite creates and lists (default 1000)
              --sessions N        sessions the sessions, cleanup, health and watch suites register (default 1000)
              --jobs N            ccorc cleanup --jobs in the cleanup suite (default: ccorc's own)
              --abi-sessions N    sessions the abi suite registers (default 100)
              --abi-calls N       calls the abi suite makes (default 1000)
              --crash-sessions N  sessions each cleanup-crash round plants (default 300)
              --crash-rounds N    rounds of cleanup-crash (default 3)
              --crash-after S     seconds cleanup-crash lets ccorc cleanup run before SIGKILL (default 1)
              --watch-seconds S   each idle window of the watch suite, in seconds (default 60)
              --watch-rounds N    container kills and window closes the watch suite times, each (default 20)
              --engine-sessions N sessions the engines suite registers on each of its 3 engines (default 300)
              -h, --help          show this help

            Everything a run starts (containers, volumes, tmux servers, processes, files) is removed
            when it ends, when it fails (exit 1) and on SIGINT (exit 130) or SIGTERM (exit 143).
            Usage errors exit 2; a cleanup-crash violation exits 1.
            """
    }
}
