import FoundationEssentials
import Synchronization

// Container endpoints: /containers/json, /containers/create, /containers/{id}/... .

/// The lifecycle state the engine reports for a container.
public enum ContainerState: String, Sendable, Codable, CaseIterable {
    case created, running, paused, restarting, removing, exited, dead
    /// A state string this driver does not know.
    case unknown

    /// Parses the engine's `State` string; unknown values map to `.unknown`.
    public init(engineValue: String) {
        self = ContainerState(rawValue: engineValue.lowercased()) ?? .unknown
    }

    /// Whether processes are running in the container (running, paused or restarting).
    public var isUp: Bool { self == .running || self == .paused || self == .restarting }
}

/// One container as `GET /containers/json` lists it.
public struct ContainerSummary: Sendable {
    /// The full container ID.
    public var id: String
    /// The primary name, without the leading slash.
    public var name: String
    /// The image as given at create time.
    public var image: String
    /// The command line.
    public var command: String
    /// Creation time.
    public var created: Date
    /// Lifecycle state.
    public var state: ContainerState
    /// The engine's human status, e.g. `Up 2 minutes`.
    public var status: String
    /// The container's labels.
    public var labels: [String: String]
    /// Bytes in the writable layer, when listed with `size: true`.
    public var sizeRw: Int64?
    /// The engine (docker context name) it was listed from, where ccorc lists several; nil when
    /// one engine was asked.
    public var engine: String?

    /// The image by name: the `ccorc.image` label of a container ccorc created from the image's ID,
    /// else `image`.
    public var imageName: String { labels[OwnershipLabels.image] ?? image }

    /// The members of a list entry this type reads; the rest of the reply is not parsed.
    static let listedKeys: Set<String> = [
        "Id", "Names", "Image", "Command", "Created", "State", "Status", "Labels", "SizeRw", "SizeRootFs",
    ]
    /// The members a brief listing reads.
    static let briefKeys: Set<String> = ["Id", "Names", "State", "Status", "Labels"]

    init(json: JSONValue) throws {
        guard let id = json["Id"]?.string else {
            throw EngineError(.malformedReply, "container list entry without an Id", operation: "GET /containers/json")
        }
        self.id = id
        let names = json["Names"]?.stringArray ?? []
        name = names.first.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? String(id.prefix(12))
        image = json["Image"]?.string ?? ""
        command = json["Command"]?.string ?? ""
        created = Date(timeIntervalSince1970: Double(json["Created"]?.int ?? 0))
        state = ContainerState(engineValue: json["State"]?.string ?? "")
        status = json["Status"]?.string ?? ""
        labels = json["Labels"]?.stringMap ?? [:]
        // The engine leaves out a zero SizeRw; SizeRootFs tells that sizes were asked for.
        sizeRw = json["SizeRw"]?.int ?? (json["SizeRootFs"] == nil ? nil : 0)
    }
}

/// A bind or volume mount for a new container (`HostConfig.Mounts`).
public struct MountSpec: Sendable, Equatable {
    /// `volume` (a named volume) or `bind` (a host path).
    public enum Kind: String, Sendable { case volume, bind }
    /// Whether `source` is a volume name or a host path.
    public var kind: Kind
    /// The volume name or host path.
    public var source: String
    /// The path inside the container.
    public var target: String
    /// Mounted read-only.
    public var readOnly: Bool

    /// Creates a mount; see the properties.
    public init(kind: Kind, source: String, target: String, readOnly: Bool = false) {
        self.kind = kind
        self.source = source
        self.target = target
        self.readOnly = readOnly
    }

    /// Parses `HOST:CONTAINER[:ro|rw]`; a source without a slash is a named volume.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
            throw EngineError(.invalidInput, "invalid mount \"\(text)\": expected SOURCE:/container/path[:ro]")
        }
        var readOnly = false
        if parts.count == 3 {
            switch parts[2] {
            case "ro": readOnly = true
            case "rw": readOnly = false
            default: throw EngineError(.invalidInput, "invalid mount \"\(text)\": the mode must be ro or rw")
            }
        }
        let kind: Kind = parts[0].contains("/") || parts[0].hasPrefix(".") ? .bind : .volume
        self.init(kind: kind, source: parts[0], target: parts[1], readOnly: readOnly)
    }

    var json: JSONValue {
        [
            "Type": .string(kind.rawValue), "Source": .string(source), "Target": .string(target),
            "ReadOnly": .bool(readOnly),
        ]
    }
}

/// What to do when a container's process exits.
public enum RestartPolicy: Sendable, Equatable {
    case no, always, unlessStopped
    case onFailure(maximumRetries: Int)

    var json: JSONValue {
        switch self {
        case .no: return ["Name": "no"]
        case .always: return ["Name": "always"]
        case .unlessStopped: return ["Name": "unless-stopped"]
        case .onFailure(let retries): return ["Name": "on-failure", "MaximumRetryCount": .int(Int64(retries))]
        }
    }
}

/// Everything `POST /containers/create` needs for a new container.
public struct ContainerSpec: Sendable {
    /// The container's name (`--name`); nil lets the engine choose.
    public var name: String?
    /// The image reference.
    public var image: String
    /// The command; nil uses the image's.
    public var command: [String]?
    /// The entrypoint; nil uses the image's.
    public var entrypoint: [String]?
    /// `KEY=VALUE` pairs.
    public var environment: [String] = []
    /// Labels.
    public var labels: [String: String] = [:]
    /// The working directory; nil uses the image's.
    public var workingDirectory: String?
    /// The user to run as; nil uses the image's.
    public var user: String?
    /// Allocate a pseudo-terminal.
    public var tty = false
    /// Keep stdin open (`-i`).
    public var openStdin = false
    /// Close stdin after the first attach ends.
    public var stdinOnce = false
    /// Memory limit in bytes; nil means unlimited.
    public var memory: Int64?
    /// Memory plus swap in bytes; nil lets the engine choose (twice `memory`), -1 is unlimited swap.
    public var memorySwap: Int64?
    /// CPU quota in billionths of a CPU; nil means unlimited.
    public var nanoCPUs: Int64?
    /// Network mode (`none`, `host`, a network name); nil uses the engine's default.
    public var networkMode: String?
    /// Legacy `-v` style binds, `SOURCE:TARGET[:ro]`.
    public var binds: [String] = []
    /// Mounts.
    public var mounts: [MountSpec] = []
    /// Restart policy; nil is the engine's default (`no`).
    public var restartPolicy: RestartPolicy?
    /// Remove the container when it exits.
    public var autoRemove = false

    /// A spec for `image`; set the other properties as needed.
    public init(image: String, name: String? = nil) {
        self.image = image
        self.name = name
    }

    /// The JSON body of `POST /containers/create`.
    public var json: JSONValue {
        var host: [String: JSONValue] = [:]
        if let memory { host["Memory"] = .int(memory) }
        if let memorySwap { host["MemorySwap"] = .int(memorySwap) }
        if let nanoCPUs { host["NanoCpus"] = .int(nanoCPUs) }
        if let networkMode { host["NetworkMode"] = .string(networkMode) }
        if !binds.isEmpty { host["Binds"] = JSONValue(strings: binds) }
        if !mounts.isEmpty { host["Mounts"] = .array(mounts.map(\.json)) }
        if let restartPolicy { host["RestartPolicy"] = restartPolicy.json }
        if autoRemove { host["AutoRemove"] = true }
        var body: [String: JSONValue] = [
            "Image": .string(image),
            "Tty": .bool(tty),
            "OpenStdin": .bool(openStdin),
            "StdinOnce": .bool(stdinOnce),
            "AttachStdin": .bool(openStdin),
            "AttachStdout": true,
            "AttachStderr": true,
            "HostConfig": .object(host),
        ]
        if let command { body["Cmd"] = JSONValue(strings: command) }
        if let entrypoint { body["Entrypoint"] = JSONValue(strings: entrypoint) }
        if !environment.isEmpty { body["Env"] = JSONValue(strings: environment) }
        if !labels.isEmpty { body["Labels"] = JSONValue(strings: labels) }
        if let workingDirectory { body["WorkingDir"] = .string(workingDirectory) }
        if let user { body["User"] = .string(user) }
        return .object(body)
    }
}

/// A container in detail, as `GET /containers/{id}/json` reports it.
public struct ContainerDetails: Sendable {
    /// The full container ID.
    public var id: String
    /// The name, without the leading slash.
    public var name: String
    /// The image reference given at create time.
    public var image: String
    /// The image ID.
    public var imageID: String
    /// Creation time.
    public var created: Date?
    /// Lifecycle state.
    public var state: ContainerState
    /// The main process's pid on the host; 0 when not running.
    public var pid: Int
    /// The exit code of the last run.
    public var exitCode: Int
    /// Whether the kernel's OOM killer ended the last run.
    public var oomKilled: Bool
    /// The engine's error text for the last run, if any.
    public var error: String
    /// When the last run started and finished; nil if never.
    public var startedAt: Date?
    public var finishedAt: Date?
    /// How many times the engine restarted it.
    public var restartCount: Int
    /// The command and its arguments.
    public var command: [String]
    /// `KEY=VALUE` pairs.
    public var environment: [String]
    /// Labels.
    public var labels: [String: String]
    /// The image by name: the `ccorc.image` label of a container ccorc created from the image's ID,
    /// else `image`.
    public var imageName: String { labels[OwnershipLabels.image] ?? image }
    /// Working directory.
    public var workingDirectory: String
    /// Whether it has a TTY.
    public var tty: Bool
    /// Memory limit in bytes; 0 means unlimited.
    public var memory: Int64
    /// Memory plus swap limit; 0 means the engine's default, -1 unlimited.
    public var memorySwap: Int64
    /// CPU quota in billionths of a CPU; 0 means unlimited.
    public var nanoCPUs: Int64
    /// Network mode.
    public var networkMode: String
    /// Mounts as the engine reports them: (type, name or source, destination, read-write).
    public var mounts: [(type: String, source: String, destination: String, readWrite: Bool)]
    /// The whole reply, for export.
    public var raw: JSONValue

    init(json: JSONValue) throws {
        guard let id = json["Id"]?.string, let state = json["State"], let config = json["Config"] else {
            throw EngineError(
                .malformedReply, "container inspect reply without Id, State or Config",
                operation: "GET /containers/{id}/json")
        }
        self.id = id
        let rawName = json["Name"]?.string ?? ""
        name = rawName.hasPrefix("/") ? String(rawName.dropFirst()) : rawName
        image = config["Image"]?.string ?? ""
        imageID = json["Image"]?.string ?? ""
        created = EngineTime.parse(json["Created"]?.string)
        self.state = ContainerState(engineValue: state["Status"]?.string ?? "")
        pid = Int(state["Pid"]?.int ?? 0)
        exitCode = Int(state["ExitCode"]?.int ?? 0)
        oomKilled = state["OOMKilled"]?.bool ?? false
        error = state["Error"]?.string ?? ""
        startedAt = EngineTime.parse(state["StartedAt"]?.string)
        finishedAt = EngineTime.parse(state["FinishedAt"]?.string)
        restartCount = Int(json["RestartCount"]?.int ?? 0)
        command = (config["Entrypoint"]?.stringArray ?? []) + (config["Cmd"]?.stringArray ?? [])
        environment = config["Env"]?.stringArray ?? []
        labels = config["Labels"]?.stringMap ?? [:]
        workingDirectory = config["WorkingDir"]?.string ?? ""
        tty = config["Tty"]?.bool ?? false
        let host = json["HostConfig"]
        memory = host?["Memory"]?.int ?? 0
        memorySwap = host?["MemorySwap"]?.int ?? 0
        nanoCPUs = host?["NanoCpus"]?.int ?? 0
        networkMode = host?["NetworkMode"]?.string ?? ""
        mounts = (json["Mounts"]?.array ?? []).map { mount in
            (
                type: mount["Type"]?.string ?? "",
                source: mount["Name"]?.string ?? mount["Source"]?.string ?? "",
                destination: mount["Destination"]?.string ?? "",
                readWrite: mount["RW"]?.bool ?? true
            )
        }
        raw = json
    }
}

/// Live resource changes for `POST /containers/{id}/update`; nil leaves a value as it is.
public struct ResourceUpdate: Sendable, Equatable {
    /// Memory limit in bytes.
    public var memory: Int64?
    /// Memory plus swap in bytes (-1: unlimited swap). The engine requires it when raising memory
    /// above the current swap limit, so `updateContainer` sets it to twice `memory` if left nil.
    public var memorySwap: Int64?
    /// CPU quota in billionths of a CPU.
    public var nanoCPUs: Int64?

    /// Creates an update; see the properties.
    public init(memory: Int64? = nil, memorySwap: Int64? = nil, nanoCPUs: Int64? = nil) {
        self.memory = memory
        self.memorySwap = memorySwap
        self.nanoCPUs = nanoCPUs
    }
}

/// The processes running in a container, as `GET /containers/{id}/top` lists them.
public struct ProcessList: Sendable {
    /// Column titles (`UID`, `PID`, `CMD`, ...).
    public var titles: [String]
    /// One row per process.
    public var processes: [[String]]
}

/// Which logs to read; see `EngineClient.logs`.
public struct LogOptions: Sendable {
    /// Include stdout.
    public var stdout = true
    /// Include stderr.
    public var stderr = true
    /// Keep streaming new output until the container stops or the caller stops reading.
    public var follow = false
    /// Prefix each line with its RFC 3339 timestamp.
    public var timestamps = false
    /// Only the last N lines; nil means all.
    public var tail: Int?

    /// All output, not followed.
    public init() {}
}

extension EngineClient {
    /// Lists containers (`GET /containers/json`).
    /// - Parameters:
    ///   - all: include stopped containers.
    ///   - filters: engine filters, e.g. `["label": [OwnershipLabels.session], "name": ["^/web-"], "status": ["running"]]`.
    ///   - size: also report each writable layer's size (slower).
    ///   - labels: the only labels to read from each container; nil reads them all. A caller that
    ///     needs two of a dozen labels saves most of the reply's parsing.
    ///   - brief: read only each container's ID, name, state, status and labels; its image and
    ///     command are left empty and its creation time is the epoch.
    public func listContainers(
        all: Bool = true, filters: [String: [String]] = [:], size: Bool = false, labels: Set<String>? = nil,
        brief: Bool = false
    ) async throws -> [ContainerSummary] {
        let projection = JSONProjection(
            members: brief ? ContainerSummary.briefKeys : ContainerSummary.listedKeys,
            nestedMember: labels == nil ? nil : "Labels",
            nestedKeys: labels ?? [])
        let reply = try await json(
            .get, "/containers/json",
            query: [
                ("all", EngineClient.flag(all)), ("size", size ? "1" : nil),
                ("filters", EngineClient.filtersQuery(filters)),
            ], projection: projection)
        guard let entries = reply.array else {
            throw EngineError(.malformedReply, "expected a list of containers", operation: "GET /containers/json")
        }
        return try entries.map(ContainerSummary.init(json:))
    }

    /// The containers ccorc and ccdk manage (labelled `ccorc.managed=true`), or every container with
    /// `includingUnmanaged`, stopped ones too, sorted by name (`ccdk list`).
    public func managedContainers(includingUnmanaged: Bool = false) async throws -> [ContainerSummary] {
        try await listContainers(all: true, filters: includingUnmanaged ? [:] : OwnershipLabels.managedFilter)
            .sorted { $0.name < $1.name }
    }

    /// Inspects a container by name or ID (`GET /containers/{id}/json`).
    public func inspectContainer(_ nameOrID: String) async throws -> ContainerDetails {
        try ContainerDetails(json: try await json(.get, "/containers/\(pathSegment(nameOrID))/json"))
    }

    /// Creates a container (`POST /containers/create`) and returns its ID.
    public func createContainer(_ spec: ContainerSpec) async throws -> String {
        let reply = try await json(.post, "/containers/create", query: [("name", spec.name)], body: spec.json)
        guard let id = reply["Id"]?.string else {
            throw EngineError(.malformedReply, "create reply without an Id", operation: "POST /containers/create")
        }
        return id
    }

    /// Starts a container (`POST /containers/{id}/start`).
    /// - Returns: false if it was already running (the engine's 304).
    @discardableResult
    public func startContainer(_ nameOrID: String) async throws -> Bool {
        try await send(.post, "/containers/\(pathSegment(nameOrID))/start").status != 304
    }

    /// Stops a container (`POST /containers/{id}/stop`): SIGTERM, then SIGKILL after `timeout`.
    /// - Parameter timeout: seconds to wait before killing; nil uses the container's own setting.
    /// - Returns: false if it was not running (the engine's 304).
    @discardableResult
    public func stopContainer(_ nameOrID: String, timeout: Int? = nil) async throws -> Bool {
        let wait = Double(timeout ?? 10) + 60
        return try await send(
            .post, "/containers/\(pathSegment(nameOrID))/stop", query: [("t", timeout.map(String.init))], timeout: wait
        ).status != 304
    }

    /// Restarts a container (`POST /containers/{id}/restart`).
    public func restartContainer(_ nameOrID: String, timeout: Int? = nil) async throws {
        let wait = Double(timeout ?? 10) + 60
        _ = try await send(
            .post, "/containers/\(pathSegment(nameOrID))/restart", query: [("t", timeout.map(String.init))],
            timeout: wait)
    }

    /// Sends a signal to a container's main process (`POST /containers/{id}/kill`).
    public func killContainer(_ nameOrID: String, signal: String = "SIGKILL") async throws {
        _ = try await send(.post, "/containers/\(pathSegment(nameOrID))/kill", query: [("signal", signal)])
    }

    /// Removes a container (`DELETE /containers/{id}`).
    /// - Parameters:
    ///   - force: kill it first if it is running.
    ///   - volumes: also remove its anonymous volumes.
    public func removeContainer(_ nameOrID: String, force: Bool = false, volumes: Bool = false) async throws {
        _ = try await send(
            .delete, "/containers/\(pathSegment(nameOrID))",
            query: [
                ("force", EngineClient.flag(force)), ("v", EngineClient.flag(volumes)),
            ])
    }

    /// Changes a container's limits while it runs (`POST /containers/{id}/update`).
    /// - Returns: the engine's warnings.
    @discardableResult
    public func updateContainer(_ nameOrID: String, _ update: ResourceUpdate) async throws -> [String] {
        var body: [String: JSONValue] = [:]
        if let memory = update.memory {
            body["Memory"] = .int(memory)
            // Without a swap limit the engine refuses a memory limit above the current swap limit.
            body["MemorySwap"] = .int(update.memorySwap ?? memory * 2)
        } else if let swap = update.memorySwap {
            body["MemorySwap"] = .int(swap)
        }
        if let cpus = update.nanoCPUs { body["NanoCpus"] = .int(cpus) }
        let reply = try await json(.post, "/containers/\(pathSegment(nameOrID))/update", body: .object(body))
        return reply["Warnings"]?.stringArray ?? []
    }

    /// Waits until a container stops (`POST /containers/{id}/wait`) and returns its exit code.
    /// - Parameter condition: `not-running` (default), `next-exit` or `removed`.
    public func waitContainer(_ nameOrID: String, condition: String = "not-running") async throws -> Int {
        let reply = try await json(
            .post, "/containers/\(pathSegment(nameOrID))/wait", query: [("condition", condition)], timeout: nil)
        if let message = reply["Error"]?["Message"]?.string, !message.isEmpty {
            throw EngineError(.server, message, operation: "POST /containers/{id}/wait")
        }
        guard let code = reply["StatusCode"]?.int else {
            throw EngineError(.malformedReply, "wait reply without StatusCode", operation: "POST /containers/{id}/wait")
        }
        return Int(code)
    }

    /// Lists a container's processes (`GET /containers/{id}/top`).
    public func top(_ nameOrID: String, psArguments: String? = nil) async throws -> ProcessList {
        let reply = try await json(.get, "/containers/\(pathSegment(nameOrID))/top", query: [("ps_args", psArguments)])
        guard let titles = reply["Titles"]?.stringArray else {
            throw EngineError(.malformedReply, "top reply without Titles", operation: "GET /containers/{id}/top")
        }
        let rows = (reply["Processes"]?.array ?? []).map { $0.stringArray ?? [] }
        return ProcessList(titles: titles, processes: rows)
    }

    /// Reads a container's logs (`GET /containers/{id}/logs`), delivering each frame to `receive`
    /// as it arrives; with `follow` this returns when the container stops or `receive` returns false.
    /// - Parameter tty: whether the container has a TTY (its log is then a raw stream, not multiplexed).
    public func logs(
        _ nameOrID: String, options: LogOptions, tty: Bool, receive: @escaping @Sendable (StreamFrame) -> Bool
    ) async throws {
        let demultiplexer = Mutex(StreamDemultiplexer(raw: tty))
        _ = try await send(
            .get, "/containers/\(pathSegment(nameOrID))/logs",
            query: [
                ("stdout", EngineClient.flag(options.stdout)), ("stderr", EngineClient.flag(options.stderr)),
                ("follow", EngineClient.flag(options.follow)), ("timestamps", EngineClient.flag(options.timestamps)),
                ("tail", options.tail.map(String.init) ?? "all"),
            ], timeout: nil
        ) { chunk in
            let frames = demultiplexer.withLock { $0.feed(chunk) }
            for frame in frames where !receive(frame) { return false }
            return true
        }
    }

    /// One reading of a container's memory and CPU from the engine (`GET /containers/{id}/stats`,
    /// one-shot); the slow path, for engines whose cgroups are not readable here.
    public func oneShotStats(_ nameOrID: String) async throws -> ResourceUsage {
        let reply = try await json(
            .get, "/containers/\(pathSegment(nameOrID))/stats", query: [("stream", "0"), ("one-shot", "1")])
        guard let memory = reply["memory_stats"], let cpu = reply["cpu_stats"] else {
            throw EngineError(
                .malformedReply, "stats reply without memory_stats or cpu_stats",
                operation: "GET /containers/{id}/stats")
        }
        let inactive = memory["stats"]?["total_inactive_file"]?.int ?? memory["stats"]?["inactive_file"]?.int ?? 0
        let usage = max(0, (memory["usage"]?.int ?? 0) - inactive)
        let limit = memory["limit"]?.int
        return ResourceUsage(
            memoryUsage: usage, memoryLimit: limit,
            cpuUsageNanoseconds: UInt64(max(0, cpu["cpu_usage"]?["total_usage"]?.int ?? 0)),
            cpuQuotaNanoCPUs: nil, pids: [], source: .engineStats)
    }

    /// Escapes a name or ID for use as one path segment.
    func pathSegment(_ value: String) -> String { EngineClient.percentEncode(value) }
}

/// Timestamps in the engine's RFC 3339 format with nanoseconds.
enum EngineTime {
    /// Parses `2024-05-01T12:34:56.123456789Z`; the engine's zero time (year 1) and bad text give nil.
    static func parse(_ text: String?) -> Date? {
        guard let text, text.count >= 20, !text.hasPrefix("0001-") else { return nil }
        return RFC3339.parse(text)
    }
}
