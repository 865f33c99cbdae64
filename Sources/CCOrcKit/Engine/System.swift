// System endpoints: /_ping, /version, /info.

/// The engine's `GET /version` reply, in part.
public struct EngineVersion: Sendable {
    /// The engine's release, e.g. `20.10.24+dfsg1`.
    public var version: String
    /// The newest API version it speaks.
    public var apiVersion: String
    /// The oldest API version it speaks.
    public var minimumAPIVersion: String
    /// Operating system and architecture.
    public var os: String
    public var architecture: String
    /// The whole reply.
    public var raw: JSONValue
}

/// The engine's `GET /info` reply, in part.
public struct EngineInfo: Sendable {
    /// Container counts.
    public var containers: Int
    public var running: Int
    public var stopped: Int
    /// Image count.
    public var images: Int
    /// `cgroupfs` or `systemd`.
    public var cgroupDriver: String
    /// `1` or `2`.
    public var cgroupVersion: String
    /// The engine's data directory.
    public var dockerRootDir: String
    /// The host's memory in bytes (`MemTotal`).
    public var memoryBytes: Int64
    /// The host's CPUs (`NCPU`).
    public var cpus: Int
    /// The engine's release (`ServerVersion`).
    public var serverVersion: String
    /// The whole reply.
    public var raw: JSONValue
}

extension EngineClient {
    /// Checks that the engine answers (`GET /_ping`, unversioned).
    public func ping() async throws {
        _ = try await send(.get, "/_ping", timeout: 10, versioned: false)
    }

    /// `ping` on the calling thread: the lowest-latency round trip, for health probes.
    public func pingBlocking() throws {
        _ = try sendBlocking(.get, "/_ping", timeout: 10)
    }

    /// The engine's version (`GET /version`).
    public func version() async throws -> EngineVersion {
        let reply = try await json(.get, "/version", versioned: false)
        guard let version = reply["Version"]?.string, let api = reply["ApiVersion"]?.string else {
            throw EngineError(.malformedReply, "version reply without Version or ApiVersion", operation: "GET /version")
        }
        return EngineVersion(
            version: version, apiVersion: api, minimumAPIVersion: reply["MinAPIVersion"]?.string ?? "",
            os: reply["Os"]?.string ?? "", architecture: reply["Arch"]?.string ?? "", raw: reply)
    }

    /// System-wide information (`GET /info`).
    public func info() async throws -> EngineInfo {
        let reply = try await json(.get, "/info")
        guard reply.object != nil else {
            throw EngineError(.malformedReply, "info reply is not an object", operation: "GET /info")
        }
        return EngineInfo(
            containers: Int(reply["Containers"]?.int ?? 0), running: Int(reply["ContainersRunning"]?.int ?? 0),
            stopped: Int(reply["ContainersStopped"]?.int ?? 0), images: Int(reply["Images"]?.int ?? 0),
            cgroupDriver: reply["CgroupDriver"]?.string ?? "", cgroupVersion: reply["CgroupVersion"]?.string ?? "",
            dockerRootDir: reply["DockerRootDir"]?.string ?? "", memoryBytes: reply["MemTotal"]?.int ?? 0,
            cpus: Int(reply["NCPU"]?.int ?? 0), serverVersion: reply["ServerVersion"]?.string ?? "", raw: reply)
    }
}
