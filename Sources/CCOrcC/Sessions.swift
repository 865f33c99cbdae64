import CCOrcHeader
import CCOrcKit

// Sessions and containers: each export reads its arguments, waits for the driver and returns the
// same JSON as the matching `ccorc`/`ccdk --json` command.

/// Registered sessions with their live state (`ccorc_list_sessions` in ccorc.h).
@_cdecl("ccorc_list_sessions")
public func cListSessions(
    _ handle: OpaquePointer?, _ includeOrphans: Int32, _ sessions: ResultPointer?,
    _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(sessions, error) {
        let manager = try SessionHandle.from(handle).manager
        return try waitFor { try await manager.listing(includeOrphans: includeOrphans != 0).jsonValue }
    }
}

/// One session in detail (`ccorc_session_info` in ccorc.h).
@_cdecl("ccorc_session_info")
public func cSessionInfo(
    _ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ session: ResultPointer?,
    _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(session, error) {
        let manager = try SessionHandle.from(handle).manager
        let name = try sessionName(name)
        return try waitFor { try await manager.details(of: name).jsonValue }
    }
}

/// Launches sessions concurrently (`ccorc_launch` in ccorc.h).
@_cdecl("ccorc_launch")
public func cLaunch(
    _ handle: OpaquePointer?, _ names: StringArrayPointer?, _ nameCount: Int,
    _ options: UnsafePointer<ccorc_launch_options>?,
    _ result: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedBulkCall(result, error) {
        let manager = try SessionHandle.from(handle).manager
        let names = try sessionNames(names, count: nameCount)
        guard !names.isEmpty else { throw BoundaryError.invalid("name at least one session") }
        let launchOptions =
            try options.map { try LaunchOptions(try initializedOptions($0, "ccorc_launch_options_init")) }
            ?? LaunchOptions()
        let results = try waitFor { try await manager.launch(names, options: launchOptions) }
        return bulkOutcome(results, succeededKey: "launched")
    }
}

/// Brings a stopped session back (`ccorc_resume` in ccorc.h).
@_cdecl("ccorc_resume")
public func cResume(
    _ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ session: ResultPointer?,
    _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(session, error) {
        let manager = try SessionHandle.from(handle).manager
        let name = try sessionName(name)
        return try waitFor { try await manager.resume(name).jsonValue }
    }
}

/// Stops sessions (`ccorc_stop` in ccorc.h).
@_cdecl("ccorc_stop")
public func cStop(
    _ handle: OpaquePointer?, _ names: StringArrayPointer?, _ nameCount: Int, _ timeoutSeconds: Int32,
    _ keepTmux: Int32,
    _ result: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedBulkCall(result, error) {
        let manager = try SessionHandle.from(handle).manager
        let names = try sessionNames(names, count: nameCount)
        guard !names.isEmpty else { throw BoundaryError.invalid("name at least one session") }
        let timeout = timeoutSeconds < 0 ? nil : Int(timeoutSeconds)
        let results = try waitFor { try await manager.stop(names, timeout: timeout, keepTmux: keepTmux != 0) }
        return bulkOutcome(results, succeededKey: "stopped")
    }
}

/// Managed containers (`ccorc_list_containers` in ccorc.h).
@_cdecl("ccorc_list_containers")
public func cListContainers(
    _ handle: OpaquePointer?, _ every: Int32, _ containers: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(containers, error) {
        let engine = try SessionHandle.from(handle).manager.engine
        return try waitFor {
            .array(try await engine.managedContainers(includingUnmanaged: every != 0).map(\.jsonValue))
        }
    }
}

extension LaunchOptions {
    /// The options a C caller set; NULL fields keep the defaults.
    init(_ options: ccorc_launch_options) throws {
        self.init()
        let roles = try stringArray(options.roles, count: options.role_count, "roles")
        if !roles.isEmpty { self.roles = try roles.map { try AgentRole($0) } }
        image = try optionalString(options.image, "image") ?? image
        agentCommand = try optionalString(options.agent_command, "agent_command") ?? agentCommand
        memoryBytes = try optionalString(options.memory, "memory").map(ResourceLimits.parseMemory)
        nanoCPUs = try optionalString(options.cpus, "cpus").map(ResourceLimits.parseCPUs)
        mounts = try stringArray(options.mounts, count: options.mount_count, "mounts")
        environment = try stringArray(options.environment, count: options.environment_count, "environment")
        workingDirectory = try optionalString(options.working_directory, "working_directory")
        networkMode = try optionalString(options.network_mode, "network_mode")
        stateDirectory = try optionalString(options.state_directory, "state_directory") ?? stateDirectory
        force = options.force != 0
        try validate()
    }
}
