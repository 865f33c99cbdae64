/// Memory and CPU figures for one container.
public struct ResourceUsage: Sendable, Equatable {
    /// Where the figures came from.
    public enum Source: String, Sendable { case cgroupV1, cgroupV2, engineStats }

    /// Memory in use, bytes, not counting inactive page cache (as `docker stats` reports it).
    public var memoryUsage: Int64
    /// The memory limit in bytes; nil when unlimited.
    public var memoryLimit: Int64?
    /// Total CPU time consumed, nanoseconds.
    public var cpuUsageNanoseconds: UInt64
    /// The CPU quota in billionths of a CPU; nil when unlimited or unknown.
    public var cpuQuotaNanoCPUs: Int64?
    /// The pids in the container's cgroup (host pid namespace); empty when not read.
    public var pids: [Int32]
    /// Where the figures came from.
    public var source: Source

    /// Creates a reading; see the properties.
    public init(
        memoryUsage: Int64, memoryLimit: Int64?, cpuUsageNanoseconds: UInt64, cpuQuotaNanoCPUs: Int64?, pids: [Int32],
        source: Source
    ) {
        self.memoryUsage = memoryUsage
        self.memoryLimit = memoryLimit
        self.cpuUsageNanoseconds = cpuUsageNanoseconds
        self.cpuQuotaNanoCPUs = cpuQuotaNanoCPUs
        self.pids = pids
        self.source = source
    }
}

/// A cgroup could not be found or read.
public struct CgroupError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Code: Sendable { case notFound, unreadable }
    /// The class of the failure.
    public var code: Code
    /// What was looked for, and where.
    public var message: String
    public var description: String { message }
}

/// Where a container's cgroup lives.
public enum CgroupLocation: Sendable, Equatable {
    /// cgroup v1: one directory per controller.
    case v1(memory: String, cpu: String?, cpuacct: String?)
    /// cgroup v2: one unified directory.
    case v2(String)
}

/// Reads a container's memory, CPU and pids straight from the cgroup filesystem, without the engine.
///
/// Finds the container's cgroup on v1 (cgroupfs driver: `memory/docker/ID`; systemd driver:
/// `memory/system.slice/docker-ID.scope`) and v2 (`system.slice/docker-ID.scope`, `docker/ID`)
/// layouts, or from `/proc/PID/cgroup` of the container's main process.
public struct CgroupReader: Sendable {
    /// The cgroup filesystem's mount point.
    public var root: String

    /// A reader of the cgroup filesystem at `root`.
    public init(root: String = "/sys/fs/cgroup") {
        self.root = root
    }

    /// Whether this host has a unified (v2-only) hierarchy.
    public var isUnified: Bool { SysFile.read(root + "/cgroup.controllers") != nil }

    /// Finds the cgroup of container `id`; `pid` (its main process) is used when no known layout matches.
    public func locate(containerID id: String, pid: Int? = nil) -> CgroupLocation? {
        if isUnified {
            for relative in ["system.slice/docker-\(id).scope", "docker/\(id)"]
            where directoryExists(root + "/" + relative) {
                return .v2(root + "/" + relative)
            }
        } else {
            for relative in ["docker/\(id)", "system.slice/docker-\(id).scope"]
            where directoryExists("\(root)/memory/\(relative)") {
                return .v1(
                    memory: "\(root)/memory/\(relative)",
                    cpu: controllerDirectory(["cpu", "cpu,cpuacct"], relative),
                    cpuacct: controllerDirectory(["cpuacct", "cpu,cpuacct"], relative))
            }
        }
        if let pid { return locate(pid: pid) }
        return nil
    }

    private func controllerDirectory(_ mounts: [String], _ relative: String) -> String? {
        mounts.map { "\(root)/\($0)/\(relative)" }.first(where: directoryExists)
    }

    /// Finds the cgroup of a process from `/proc/PID/cgroup`.
    public func locate(pid: Int) -> CgroupLocation? {
        guard let text = SysFile.read("/proc/\(pid)/cgroup") else { return nil }
        var byController: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            for controller in fields[1].split(separator: ",") { byController[String(controller)] = String(fields[2]) }
            if fields[0] == "0" { byController[""] = String(fields[2]) }
        }
        if isUnified, let path = byController[""] { return .v2(root + path) }
        guard let memory = byController["memory"] else { return nil }
        return .v1(
            memory: root + "/memory" + memory,
            cpu: byController["cpu"].flatMap { path in
                ["cpu", "cpu,cpuacct"].map { "\(root)/\($0)\(path)" }.first(where: directoryExists)
            },
            cpuacct: byController["cpuacct"].flatMap { path in
                ["cpuacct", "cpu,cpuacct"].map { "\(root)/\($0)\(path)" }.first(where: directoryExists)
            })
    }

    /// Reads memory use and limit, CPU time and quota, and optionally the pids, of container `id`.
    /// - Throws: `CgroupError.notFound` when no cgroup of the container is visible here (a stopped
    ///   container, a remote engine), `.unreadable` when its files cannot be parsed.
    public func usage(
        containerID id: String, pid: Int? = nil, includeLimits: Bool = true, includePids: Bool = false
    ) throws -> ResourceUsage {
        guard let location = locate(containerID: id, pid: pid) else {
            throw CgroupError(code: .notFound, message: "no cgroup found for container \(id.prefix(12)) under \(root)")
        }
        return try usage(at: location, includeLimits: includeLimits, includePids: includePids)
    }

    /// Reads the figures from a located cgroup.
    /// - Parameters:
    ///   - includeLimits: also read the memory limit and CPU quota (three more files).
    ///   - includePids: also read the pids (`cgroup.procs`).
    public func usage(
        at location: CgroupLocation, includeLimits: Bool = true, includePids: Bool = false
    ) throws -> ResourceUsage {
        switch location {
        case .v1(let memory, let cpu, let cpuacct):
            guard let used = SysFile.integer(memory + "/memory.usage_in_bytes") else {
                throw CgroupError(code: .unreadable, message: "cannot read \(memory)/memory.usage_in_bytes")
            }
            let inactive = SysFile.field(memory + "/memory.stat", "total_inactive_file") ?? 0
            let limit =
                includeLimits
                ? SysFile.integer(memory + "/memory.limit_in_bytes").flatMap { $0 >= 1 << 62 ? nil : $0 } : nil
            let cpuTime = cpuacct.flatMap { SysFile.integer($0 + "/cpuacct.usage") } ?? 0
            var quota: Int64?
            if includeLimits, let cpu, let quotaMicros = SysFile.integer(cpu + "/cpu.cfs_quota_us"), quotaMicros > 0,
                let period = SysFile.integer(cpu + "/cpu.cfs_period_us"), period > 0
            {
                quota = quotaMicros * 1_000_000_000 / period
            }
            return ResourceUsage(
                memoryUsage: max(0, used - inactive), memoryLimit: limit, cpuUsageNanoseconds: UInt64(max(0, cpuTime)),
                cpuQuotaNanoCPUs: quota, pids: includePids ? pids(memory) : [], source: .cgroupV1)
        case .v2(let path):
            guard let used = SysFile.integer(path + "/memory.current") else {
                throw CgroupError(code: .unreadable, message: "cannot read \(path)/memory.current")
            }
            let inactive = SysFile.field(path + "/memory.stat", "inactive_file") ?? 0
            let limit = includeLimits ? SysFile.integer(path + "/memory.max") : nil
            let cpuMicros = SysFile.field(path + "/cpu.stat", "usage_usec") ?? 0
            var quota: Int64?
            // cpu.max is "QUOTA PERIOD" or "max PERIOD".
            if includeLimits, let fields = SysFile.read(path + "/cpu.max")?.split(whereSeparator: \.isWhitespace),
                fields.count == 2,
                let quotaMicros = Int64(fields[0]), let period = Int64(fields[1]), period > 0
            {
                quota = quotaMicros * 1_000_000_000 / period
            }
            return ResourceUsage(
                memoryUsage: max(0, used - inactive), memoryLimit: limit,
                cpuUsageNanoseconds: UInt64(max(0, cpuMicros)) * 1000,
                cpuQuotaNanoCPUs: quota, pids: includePids ? pids(path) : [], source: .cgroupV2)
        }
    }

    /// The pids in a cgroup directory (`cgroup.procs`).
    public func pids(_ directory: String) -> [Int32] {
        (SysFile.read(directory + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    /// The pids of a located cgroup.
    public func pids(at location: CgroupLocation) -> [Int32] {
        switch location {
        case .v1(let memory, _, _): return pids(memory)
        case .v2(let path): return pids(path)
        }
    }
}
