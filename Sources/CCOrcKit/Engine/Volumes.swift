// Volume endpoints: /volumes, /volumes/create, /volumes/{name}.

/// A named volume.
public struct Volume: Sendable {
    /// The volume's name.
    public var name: String
    /// Its driver (`local`).
    public var driver: String
    /// Where its data lives on the host.
    public var mountpoint: String
    /// Labels.
    public var labels: [String: String]
    /// Creation time as the engine wrote it.
    public var createdAt: String
    /// The engine (docker context name) it was listed from, where ccorc lists several; nil when
    /// one engine was asked.
    public var engine: String?

    init(json: JSONValue) throws {
        guard let name = json["Name"]?.string else {
            throw EngineError(.malformedReply, "volume without a Name", operation: "volumes")
        }
        self.name = name
        driver = json["Driver"]?.string ?? ""
        mountpoint = json["Mountpoint"]?.string ?? ""
        labels = json["Labels"]?.stringMap ?? [:]
        createdAt = json["CreatedAt"]?.string ?? ""
    }
}

extension EngineClient {
    /// Creates a named volume (`POST /volumes/create`); creating an existing name returns it.
    public func createVolume(
        name: String, labels: [String: String] = [:], driver: String = "local"
    ) async throws -> Volume {
        let body: JSONValue = ["Name": .string(name), "Driver": .string(driver), "Labels": JSONValue(strings: labels)]
        return try Volume(json: try await json(.post, "/volumes/create", body: body))
    }

    /// Lists volumes (`GET /volumes`), optionally filtered (`["label": [OwnershipLabels.session]]`).
    public func listVolumes(filters: [String: [String]] = [:]) async throws -> [Volume] {
        let reply = try await json(.get, "/volumes", query: [("filters", EngineClient.filtersQuery(filters))])
        guard let volumes = reply["Volumes"] else {
            throw EngineError(.malformedReply, "volume list without Volumes", operation: "GET /volumes")
        }
        return try (volumes.array ?? []).map(Volume.init(json:))
    }

    /// Inspects a volume (`GET /volumes/{name}`).
    public func inspectVolume(_ name: String) async throws -> Volume {
        try Volume(json: try await json(.get, "/volumes/\(pathSegment(name))"))
    }

    /// Removes a volume (`DELETE /volumes/{name}`).
    /// - Parameter force: remove it even if the engine thinks it is in use.
    public func removeVolume(_ name: String, force: Bool = false) async throws {
        _ = try await send(.delete, "/volumes/\(pathSegment(name))", query: [("force", EngineClient.flag(force))])
    }
}
