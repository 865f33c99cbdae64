import FoundationEssentials

/// What a launch learns from the agents' image before it creates anything: the ID containers are
/// created from, where each agent keeps its state, and which of the image's `VOLUME` paths need a
/// named volume of their own.
public struct AgentImage: Sendable, Equatable {
    /// The image as the user named it.
    public var reference: String
    /// The image's ID, which containers are created from (see `SessionManager.containerSpec`).
    public var id: String
    /// The image's `USER`, `ENV`, `WORKDIR` and `VOLUME`.
    public var config: ImageConfig
    /// Where each agent's state volume is mounted: `--state-dir`, else `~/.claude` of the image's user.
    public var stateDirectory: String
    /// The image's `VOLUME` paths that neither the state volume nor a `--mount` covers, sorted:
    /// each agent gets a named volume at each (see `SessionManager.imageVolumes`).
    public var volumeTargets: [String]
}

// MARK: - Rules (pure)

extension AgentImage {
    /// The home directory of the image's user: the image's `HOME`, else the user's entry in the
    /// image's `/etc/passwd` (by name, or by uid for a numeric `USER`), else `/root`.
    ///
    /// - Parameter passwd: the image's `/etc/passwd`; nil when it was not read (no `USER`, or
    ///   `HOME` set) or the image has none.
    public static func homeDirectory(_ config: ImageConfig, passwd: String?) -> String {
        if let home = config.environmentValue("HOME"), home.hasPrefix("/") { return normalized(home) }
        let user = userName(config)
        guard !user.isEmpty, let passwd else { return "/root" }
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 6, fields[0] == user || (Int(user) != nil && fields[2] == user) else { continue }
            return fields[5].hasPrefix("/") ? normalized(String(fields[5])) : "/root"
        }
        return "/root"
    }

    /// Whether finding the home directory needs the image's `/etc/passwd`: a `USER` is set and
    /// `HOME` is not.
    public static func needsPasswd(_ config: ImageConfig) -> Bool {
        !userName(config).isEmpty && config.environmentValue("HOME")?.hasPrefix("/") != true
    }

    /// Where agents keep their state unless told otherwise: `~/.claude` of the image's user.
    public static func defaultStateDirectory(home: String) -> String {
        normalized(home + "/.claude")
    }

    /// The image's `VOLUME` paths that still need a volume once the state volume and the user's
    /// mounts are in place: the engine would give each of those an anonymous volume.
    public static func uncoveredVolumes(_ declared: [String], stateDirectory: String, mounts: [MountSpec]) -> [String] {
        let covered = Set([normalized(stateDirectory)] + mounts.map { normalized($0.target) })
        return Set(declared.map(normalized)).subtracting(covered).sorted()
    }

    /// The user part of `USER` (`name`, `uid`, from `name:group`); empty for root by default.
    static func userName(_ config: ImageConfig) -> String {
        String(config.user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// `path` without doubled or trailing slashes, as the engine compares mount targets.
    static func normalized(_ path: String) -> String {
        let parts = path.split(separator: "/")
        return "/" + parts.joined(separator: "/")
    }
}

extension SessionManager {
    /// The named volume of one of an image's `VOLUME` paths for one agent:
    /// `SESSION-ROLE-` and the path's components joined by `-` (`/var/lib/data`: `var-lib-data`).
    /// Targets that would read the same get `-2`, `-3`, ... in the order given, so `targets` must
    /// come in the same order every time (the record keeps them sorted).
    public static func imageVolumeNames(
        _ session: SessionName, _ role: AgentRole, targets: [String]
    ) -> [(name: String, target: String)] {
        var used: Set<String> = ["state"]
        return targets.map { target in
            let words = target.split(separator: "/").map { word in
                String(
                    word.unicodeScalars.map { scalar in
                        scalar.isASCIIAlphanumeric || "_.-".unicodeScalars.contains(scalar) ? Character(scalar) : "_"
                    })
            }
            let base = words.isEmpty ? "root" : words.joined(separator: "-")
            var suffix = base
            var counter = 2
            while used.contains(suffix) {
                suffix = "\(base)-\(counter)"
                counter += 1
            }
            used.insert(suffix)
            return ("\(session)-\(role)-\(suffix)", target)
        }
    }

    /// The named volumes an agent has at its image's `VOLUME` paths (see `imageVolumeNames`).
    public func imageVolumes(_ record: SessionRecord, _ agent: AgentRecord) -> [(name: String, target: String)] {
        Self.imageVolumeNames(record.name, agent.role, targets: record.imageVolumeTargets)
    }

    /// The names of every volume of an agent: its state volume (unless it has none), then its
    /// image volumes.
    public static func volumeNames(_ record: SessionRecord, _ agent: AgentRecord) -> [String] {
        (agent.stateVolume.isEmpty ? [] : [agent.stateVolume])
            + imageVolumeNames(record.name, agent.role, targets: record.imageVolumeTargets).map(\.name)
    }

    /// Every volume of an agent: its state volume, then one per uncovered image `VOLUME` path.
    public func agentVolumes(
        _ record: SessionRecord, _ agent: AgentRecord
    ) -> [(name: String, labels: [String: String])] {
        let now = Date()
        let state =
            agent.stateVolume.isEmpty
            ? [] : [(name: agent.stateVolume, labels: AgentLabels.labels(record, agent, now: now))]
        return state
            + imageVolumes(record, agent).map { volume in
                (volume.name, AgentLabels.labels(record, agent, imageVolumeTarget: volume.target, now: now))
            }
    }
}

// MARK: - Gathering (I/O)

extension SessionManager {
    /// Looks the agents' image up and works out where its agents keep their state: one inspect,
    /// plus, when the image sets `USER` but not `HOME` and no `stateDirectory` is given, a read
    /// of its `/etc/passwd` through a container that is created, read and removed again.
    ///
    /// - Parameters:
    ///   - reference: the image as the user named it.
    ///   - stateDirectory: `--state-dir`; nil derives it from the image.
    ///   - mounts: the session's extra mounts, which may cover an image `VOLUME`.
    ///   - engine: the engine to look in; nil for the current one.
    /// - Throws: `SessionError(.imageMissing)` when the engine has no such image; engine errors.
    public func agentImage(
        _ reference: String, stateDirectory: String?, mounts: [MountSpec], on engine: EngineClient? = nil
    ) async throws -> AgentImage {
        let engine = engine ?? self.engine
        let summary: ImageSummary
        do {
            summary = try await engine.inspectImage(reference)
        } catch let error as EngineError where error.code == .notFound {
            throw SessionError(
                .imageMissing,
                "image \(reference) not found: build it with `ccdk image build`, import one with `ccdk image import` or `ccdk image busybox`, or pass --image"
            )
        }
        let directory: String
        if let stateDirectory {
            directory = stateDirectory
        } else {
            let passwd =
                AgentImage.needsPasswd(summary.config)
                ? try await readFile("/etc/passwd", ofImage: summary.id, on: engine) : nil
            directory = AgentImage.defaultStateDirectory(home: AgentImage.homeDirectory(summary.config, passwd: passwd))
        }
        return AgentImage(
            reference: reference, id: summary.id, config: summary.config, stateDirectory: directory,
            volumeTargets: AgentImage.uncoveredVolumes(
                summary.config.volumes, stateDirectory: directory, mounts: mounts))
    }

    /// A file of an image, read through a container that is never started; nil when the image
    /// has no such file.
    private func readFile(_ path: String, ofImage imageID: String, on engine: EngineClient) async throws -> String? {
        var spec = ContainerSpec(
            image: imageID, name: "ccorc-probe-\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF)")
        // Never started: any command will do, but an image without CMD refuses to create without one.
        spec.command = ["/ccorc-probe"]
        spec.networkMode = "none"
        spec.labels = [OwnershipLabels.managed: "true"]
        let id = try await engine.createContainer(spec)
        let archive: [UInt8]?
        do {
            archive = try await engine.copyFromContainer(id, path: path)
        } catch {
            try? await engine.removeContainer(id, force: true, volumes: true)
            throw error
        }
        // `volumes`: the image's VOLUME lines gave the probe anonymous volumes.
        try await engine.removeContainer(id, force: true, volumes: true)
        guard let archive else { return nil }
        return try TarReader.entries(archive).first { $0.type == "0" }.map {
            String(decoding: $0.contents, as: UTF8.self)
        }
    }
}
