import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials
import Glibc

struct ListContainers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the containers ccorc and ccdk manage, team ones marked with their session.",
        aliases: ["ps"])
    @OptionGroup var engineChoice: EngineChoice

    @Flag(help: "Print JSON.") var json = false
    @Flag(name: .customLong("every"), help: "List every container on the engine, not only managed ones.") var every =
        false

    func run() async throws {
        let engine = try engineChoice.client()
        let containers = try await engine.managedContainers(includingUnmanaged: every)
        if json {
            printJSON(.array(containers.map(\.jsonValue)))
            return
        }
        var table = TextTable(headers: ["NAME", "STATE", "STATUS", "IMAGE", "SESSION", "ROLE", "ID"])
        for container in containers {
            table.append([
                container.name, container.state.rawValue, container.status, container.imageName,
                container.labels[OwnershipLabels.session] ?? "-", container.labels[OwnershipLabels.role] ?? "-",
                String(container.id.prefix(12)),
            ])
        }
        print(table.render())
    }
}

/// Flags that describe a new container.
struct ContainerOptions: ParsableArguments {
    @Option(help: "Image (default: $CCORC_IMAGE or ccorc-agent:latest).") var image: String?
    @Option(help: "Memory limit, e.g. 512m or 4g.") var memory: String?
    @Option(help: "CPU limit, e.g. 0.5 or 2.") var cpus: String?
    @Option(name: [.customShort("e"), .long], help: "Environment variable KEY=VALUE (repeatable).") var env: [String] =
        []
    @Option(help: "Mount SOURCE:/path[:ro] (a source without a slash is a named volume; repeatable).") var mount:
        [String] = []
    @Option(name: [.customShort("w"), .long], help: "Working directory inside the container.") var workdir: String?
    @Option(help: "Network mode (default: $CCORC_NETWORK, else the engine's default).") var network: String?
    @Option(help: "Label KEY=VALUE (repeatable).") var label: [String] = []
    @Option(help: "Restart policy: no, always, unless-stopped, on-failure[:N].") var restart: String?

    func spec(name: String, command: [String]) throws -> ContainerSpec {
        let environment = ProcessInfo.processInfo.environment
        var spec = ContainerSpec(image: image ?? environment["CCORC_IMAGE"] ?? "ccorc-agent:latest", name: name)
        spec.command = command.isEmpty ? nil : command
        spec.memory = try memory.map(ResourceLimits.parseMemory)
        spec.nanoCPUs = try cpus.map(ResourceLimits.parseCPUs)
        for pair in env where !pair.contains("=") {
            throw ValidationError("invalid --env \"\(pair)\": expected KEY=VALUE")
        }
        spec.environment = env
        spec.mounts = try mount.map(MountSpec.init(parsing:))
        spec.workingDirectory = workdir
        spec.networkMode = network ?? environment["CCORC_NETWORK"]
        spec.labels[OwnershipLabels.managed] = "true"
        for pair in label {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("invalid --label \"\(pair)\": expected KEY=VALUE")
            }
            spec.labels[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        spec.tty = true
        spec.openStdin = true
        if let restart {
            switch restart {
            case "no": spec.restartPolicy = .no
            case "always": spec.restartPolicy = .always
            case "unless-stopped": spec.restartPolicy = .unlessStopped
            case let value where value.hasPrefix("on-failure"):
                let retries = value.split(separator: ":").dropFirst().first.flatMap { Int($0) } ?? 0
                spec.restartPolicy = .onFailure(maximumRetries: retries)
            default: throw ValidationError("invalid --restart \"\(restart)\"")
            }
        }
        return spec
    }
}

struct RunContainer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Create and start a container: attached and removed when it ends, or kept in the background with -d.")
    @OptionGroup var engineChoice: EngineChoice

    @Option(name: [.customShort("i"), .long], help: "Container name.") var instance: String?
    @Flag(name: .shortAndLong, help: "Run in the background and keep the container.") var detach = false
    @OptionGroup var options: ContainerOptions
    @OptionGroup var terminal: TerminalOptions
    @Argument(help: "Container name (instead of -i).") var name: String?
    @Argument(parsing: .postTerminator, help: "The command to run, after --.") var command: [String] = []

    func run() async throws {
        guard let name = instance ?? self.name else {
            throw ValidationError("name the container with -i NAME or as the first argument")
        }
        let spec = try options.spec(name: name, command: command)
        let engine = try engineChoice.client()
        guard try await engine.imageExists(spec.image) else {
            throw CommandLineFailure(
                "image \(spec.image) not found: import one with `ccdk image import` or `ccdk image busybox`, or pass --image"
            )
        }
        guard detach else {
            let interactive = InteractiveOptions(
                tty: LocalTerminal.isTerminal(STDIN_FILENO), stdin: true,
                detachKeys: try DetachKeys(terminal.detachKeys))
            try finish(try await engine.runInteractive(spec, options: interactive), container: name)
            return
        }
        let id = try await engine.createContainer(spec)
        do {
            try await engine.startContainer(id)
        } catch {
            // Nothing half-made is left behind: a container that cannot start is removed again.
            try? await engine.removeContainer(id, force: true, volumes: true)
            throw error
        }
        print(name)
    }
}

struct StartContainers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start stopped containers.")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var targets: InstancesArguments

    func run() async throws {
        let engine = try engineChoice.client()
        try reportBulk(await forEachConcurrently(try targets.all()) { try await engine.startContainer($0) })
    }
}

struct StopContainers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop running containers (they persist).")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var targets: InstancesArguments
    @Option(name: [.customShort("t"), .long], help: "Seconds to wait before killing.") var time: Int?

    func run() async throws {
        let engine = try engineChoice.client()
        let time = self.time
        try reportBulk(
            await forEachConcurrently(try targets.all(), width: 64) {
                try await engine.stopContainer($0, timeout: time)
            })
    }
}

struct RestartContainers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart containers.")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var targets: InstancesArguments
    @Option(name: [.customShort("t"), .long], help: "Seconds to wait before killing.") var time: Int?

    func run() async throws {
        let engine = try engineChoice.client()
        let time = self.time
        try reportBulk(
            await forEachConcurrently(try targets.all(), width: 64) {
                try await engine.restartContainer($0, timeout: time)
            })
    }
}

struct RemoveContainers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove containers by name or by glob pattern (patterns match managed containers only).")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var targets: InstancesArguments
    @Flag(name: [.customShort("f"), .long], help: "Remove running containers too.") var force = false
    @Flag(
        name: [.customShort("v"), .long],
        help: "Also remove the containers' anonymous volumes (an image's VOLUME paths).") var volumes = false

    func run() async throws {
        let engine = try engineChoice.client()
        var names: [String] = []
        var managed: [ContainerSummary]?
        for target in try targets.all() {
            guard GlobPattern.isPattern(target) else {
                names.append(target)
                continue
            }
            if managed == nil {
                managed = try await engine.listContainers(all: true, filters: OwnershipLabels.managedFilter)
            }
            let pattern = try GlobPattern(target)
            let matches = managed!.filter { pattern.matches($0.name) }.map(\.name)
            if matches.isEmpty { printError("ccdk: no managed container matches \(target)") }
            names += matches
        }
        let force = self.force
        let volumes = self.volumes
        try reportBulk(
            await forEachConcurrently(names, width: 16) {
                try await engine.removeContainer($0, force: force, volumes: volumes)
            })
    }
}

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a container's output.")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var target: InstanceArguments
    @Flag(name: [.customShort("f"), .long], help: "Follow new output.") var follow = false
    @Option(help: "Only the last N lines.") var tail: Int?
    @Flag(name: [.customShort("t"), .long], help: "Show timestamps.") var timestamps = false

    func run() async throws {
        let engine = try engineChoice.client()
        let details = try await engine.inspectContainer(try target.name())
        var options = LogOptions()
        options.follow = follow
        options.tail = tail
        options.timestamps = timestamps
        try await engine.logs(details.id, options: options, tty: details.tty) { frame in
            let stream: StandardStream = frame.stream == .stderr ? .error : .output
            stream.write(frame.payload)
            return true
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a container's state, limits and configuration.", aliases: ["inspect"])
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var target: InstanceArguments
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let engine = try engineChoice.client()
        let details = try await engine.inspectContainer(try target.name())
        if json {
            printJSON(details.jsonValue)
            return
        }
        var lines: [(String, String)] = [
            ("Name", details.name), ("ID", String(details.id.prefix(12))), ("Image", details.imageName),
            ("State", details.state.rawValue + (details.state == .exited ? " (exit \(details.exitCode))" : "")),
            ("Memory", details.memory > 0 ? ResourceLimits.formatBytes(details.memory) : "unlimited"),
            ("CPUs", details.nanoCPUs > 0 ? ResourceLimits.formatCPUs(details.nanoCPUs) : "unlimited"),
            ("Network", details.networkMode),
            ("Command", SecretMasking.maskArguments(details.command).joined(separator: " ")),
        ]
        if details.oomKilled { lines.append(("OOM killed", "yes")) }
        if let session = details.labels[OwnershipLabels.session] { lines.append(("Session", session)) }
        if let role = details.labels[OwnershipLabels.role] { lines.append(("Role", role)) }
        for mount in details.mounts {
            lines.append(("Mount", "\(mount.source) -> \(mount.destination)\(mount.readWrite ? "" : " (ro)")"))
        }
        let width = lines.map(\.0.count).max() ?? 0
        for (key, value) in lines { print(key + ":" + String(repeating: " ", count: width - key.count + 2) + value) }
    }
}

struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change a container's memory and CPU limits while it runs.")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var target: InstanceArguments
    @Option(help: "New memory limit, e.g. 512m or 4g.") var memory: String?
    @Option(help: "New CPU limit, e.g. 0.5 or 2.") var cpus: String?

    func run() async throws {
        guard memory != nil || cpus != nil else { throw ValidationError("give --memory and/or --cpus") }
        let update = ResourceUpdate(
            memory: try memory.map(ResourceLimits.parseMemory), nanoCPUs: try cpus.map(ResourceLimits.parseCPUs))
        let engine = try engineChoice.client()
        for warning in try await engine.updateContainer(try target.name(), update) {
            printError("ccdk: warning: \(warning)")
        }
        print(try target.name())
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Memory and CPU of running containers, read from their cgroups.")
    @OptionGroup var engineChoice: EngineChoice
    @OptionGroup var targets: InstancesArguments
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let engine = try engineChoice.client()
        let reader = CgroupReader()
        var rows: [(String, ResourceUsage)] = []
        for name in try targets.all() {
            let details = try await engine.inspectContainer(name)
            guard details.state.isUp else {
                throw CommandLineFailure(
                    "container \(details.name) is not running (start it with `ccdk start \(details.name)`)")
            }
            let usage: ResourceUsage
            do {
                // A tcp:// engine's containers are not this host's to read, even on loopback.
                guard engine.host.isLocal else { throw CommandLineFailure("not a local engine") }
                usage = try reader.usage(containerID: details.id, pid: details.pid, includePids: true)
            } catch {
                usage = try await engine.oneShotStats(details.id)
            }
            rows.append((details.name, usage))
        }
        if json {
            printJSON(
                .array(
                    rows.map { name, usage in
                        var object = usage.jsonValue.object ?? [:]
                        object["name"] = .string(name)
                        return .object(object)
                    }))
            return
        }
        var table = TextTable(headers: ["NAME", "MEM USAGE / LIMIT", "CPU TIME", "CPUS", "PIDS", "SOURCE"])
        for (name, usage) in rows {
            table.append([
                name,
                ResourceLimits.formatBytes(usage.memoryUsage) + " / "
                    + (usage.memoryLimit.map(ResourceLimits.formatBytes) ?? "unlimited"),
                NumberFormatting.fixed(Double(usage.cpuUsageNanoseconds) / 1e9, digits: 2) + "s",
                usage.cpuQuotaNanoCPUs.map(ResourceLimits.formatCPUs) ?? "unlimited", String(usage.pids.count),
                usage.source.rawValue,
            ])
        }
        print(table.render())
    }
}
