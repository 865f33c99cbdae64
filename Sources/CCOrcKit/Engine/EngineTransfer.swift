import FoundationEssentials
import Synchronization

// Moving data between two engines through their archive endpoints: a volume's files
// (GET /containers/{id}/archive on one side, PUT on the other, each through a stopped helper
// container that mounts the volume) and an image (GET /images/{name}/get, POST /images/load).
// The bytes are relayed, never held whole: the reply of one engine is the request body of the
// other, with a bounded buffer between them.

/// What `EngineTransfer.copyVolume` did.
public struct VolumeCopyReport: Sendable, Equatable {
    /// The volume's name, the same on both engines.
    public var volume: String
    /// Bytes of the tar stream relayed (headers and padding included).
    public var bytesRelayed: Int64
    /// Files, links and other non-directories copied.
    public var fileCount: Int
    /// Directories copied, the volume's root included.
    public var directoryCount: Int
    /// The sum of the regular files' sizes.
    public var contentBytes: Int64
    /// Whether the volume was created on the target (false: it existed and the files were added).
    public var createdTargetVolume: Bool
}

/// A volume's contents on two engines, as `EngineTransfer.verifyVolumeCopy` found them.
public struct VolumeComparison: Sendable, Equatable {
    /// The source volume's digest.
    public var source: TarDigest
    /// The target volume's digest.
    public var target: TarDigest
    /// Whether both hold the same tree: paths, kinds, modes, owners, mtimes, link targets and bytes.
    public var matches: Bool { source == target }
}

/// Copies volumes and images from one engine to another through the Engine API alone, for moving
/// a session's containers between engines.
///
/// Every call relays bytes with bounded memory (`bufferLimit`, a few megabytes) whatever the
/// volume's or image's size. Volume operations work through helper containers, created stopped
/// and never started, with no network, named `ccorc-copy-<random>` and labelled
/// `helperLabel`; they are removed whatever happens, cancellation included (only a killed process
/// or an engine that went away leaves one, which `cleanup --orphans` removes: see `isAbandoned`).
public enum EngineTransfer {
    /// The label every helper container carries; its value is the creating process's
    /// `ProcessIdentity.labelValue` (`PID:STARTTIME@HOST`).
    public static let helperLabel = OwnershipLabels.transfer
    /// How old a helper of another host (whose process cannot be asked after) must be before a
    /// cleanup takes it for abandoned: no copy runs this long.
    public static let foreignHelperAge: TimeInterval = 86_400

    /// Whether a helper container is left over: the process that made it on this host is gone,
    /// or it comes from another host (or names no process) and is older than `foreignHelperAge`.
    /// - Parameter isAlive: whether a process runs; a parameter so that the rule can be tested.
    public static func isAbandoned(
        _ helper: ContainerSummary, now: Date = Date(), host: String = ProcessIdentity.hostName,
        isAlive: (ProcessIdentity) -> Bool = { $0.isAlive }
    ) -> Bool {
        if let owner = helper.labels[helperLabel].flatMap(ProcessIdentity.fromLabel), owner.host == host {
            return !isAlive(owner.identity)
        }
        return now.timeIntervalSince(helper.created) > foreignHelperAge
    }
    /// Where a helper container mounts the volume.
    public static let mountPath = "/ccorc-volume"
    /// The default bound on bytes between the reading and the writing engine: half queued between
    /// the two transfers, half in the upload's own buffer.
    public static let defaultBufferLimit = 4 << 20

    // MARK: - Volumes

    /// Copies the files of `volume` on `source` into the volume of the same name on `target`
    /// (`GET /containers/{id}/archive?path=/ccorc-volume` relayed into
    /// `PUT /containers/{id}/archive?path=/`).
    ///
    /// The archive is of the mount point itself, not of its contents (`/ccorc-volume/.`), and is
    /// extracted at `/`: the engine applies a directory member's owner, mode and time to an
    /// existing directory but never to the directory it extracts into, and the volume's root
    /// must keep its owner too (an agent's volume root belongs to the agent's user).
    ///
    /// The target volume is created with the source's driver and labels when it does not exist;
    /// when it does, the files are added to it, replacing files of the same names. Files and the
    /// root keep their contents, owners, groups, modes (setuid, setgid and sticky included) and
    /// modification times; symbolic and hard links stay links. Extended attributes other than
    /// those the engine's tar keeps, and the volume's driver options, are not copied.
    ///
    /// The source volume should not be written while it is copied (stop its containers first): the
    /// copy is of whatever the engine reads as it goes.
    /// - Parameters:
    ///   - helperImage: the image of the helper containers; it must exist on both engines (see
    ///     `ensureImage`). It is never run, so any image will do.
    ///   - bufferLimit: bytes held between the two engines at most; nil for `defaultBufferLimit`.
    ///   - progress: called with the bytes relayed so far, after each chunk, on a thread of its own.
    /// - Returns: what was copied.
    /// - Throws: `EngineError` whose description names the volume, the engine and the step that
    ///   failed, e.g. `copying volume v to unix:///b.sock: PUT archive to unix:///b.sock failed: ...`;
    ///   `.notFound` when `volume` does not exist on `source`. After a failure the target volume
    ///   may hold part of the files, or is removed when this call created it.
    public static func copyVolume(
        _ volume: String, from source: EngineClient, to target: EngineClient, helperImage: String,
        bufferLimit: Int? = nil, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> VolumeCopyReport {
        let context = "copying volume \(volume) from \(source.host) to \(target.host)"
        let sourceVolume = try await step(context, "inspecting the volume on \(source.host)") {
            try await source.inspectVolume(volume)
        }
        let existing = try await step(context, "inspecting the volume on \(target.host)") {
            try await volumeIfPresent(volume, on: target)
        }
        if existing == nil {
            _ = try await step(context, "creating the volume on \(target.host)") {
                try await target.createVolume(name: volume, labels: sourceVolume.labels, driver: sourceVolume.driver)
            }
        }
        do {
            return try await withHelper(for: volume, on: source, image: helperImage, context: context) { reader in
                try await withHelper(for: volume, on: target, image: helperImage, context: context) { writer in
                    let scan = Mutex(TarDigest(hashingContents: false))
                    let relayed = try await relay(
                        from: source, get: "/containers/\(source.pathSegment(reader))/archive",
                        query: [("path", mountPath)], bufferLimit: bufferLimit ?? defaultBufferLimit,
                        observe: { chunk, total in
                            try scan.withLock { try $0.feed(chunk) }
                            progress?(total)
                        },
                        into: { body in try await target.copyToContainer(writer, path: "/", archive: body) },
                        context: context, readStep: "GET archive from \(source.host)",
                        writeStep: "PUT archive to \(target.host)")
                    let counts = scan.withLock { $0 }
                    return VolumeCopyReport(
                        volume: volume, bytesRelayed: relayed, fileCount: counts.fileCount,
                        directoryCount: counts.directoryCount, contentBytes: counts.contentBytes,
                        createdTargetVolume: existing == nil)
                }
            }
        } catch {
            if existing == nil {
                await uncancelled { try? await target.removeVolume(volume) }
            }
            throw error
        }
    }

    /// Reads `volume` on `engine` through a helper container and digests its tree (see
    /// `TarDigest`): file and directory counts, bytes, and a hash over names, metadata and contents.
    /// - Parameter helperImage: an image present on `engine`; it is never run.
    /// - Throws: `EngineError` naming the engine and the step; `.notFound` when the volume does not exist.
    public static func volumeDigest(
        _ volume: String, on engine: EngineClient, helperImage: String
    ) async throws
        -> TarDigest
    {
        let context = "reading volume \(volume) on \(engine.host)"
        _ = try await step(context, "inspecting the volume") { try await engine.inspectVolume(volume) }
        return try await withHelper(for: volume, on: engine, image: helperImage, context: context) { helper in
            let digest = Mutex(TarDigest())
            let fullPath = try await step(context, "GET archive") {
                try await engine.path(
                    "/containers/\(engine.pathSegment(helper))/archive", query: [("path", mountPath)],
                    versioned: true)
            }
            let failure = Mutex<(any Error)?>(nil)
            // Blocking, on a thread of its own: hashing 100 MB should not hold the multi loop.
            let outcome = await onThread(named: "ccorc-digest") { () -> Result<HTTPResponse, any Error> in
                Result {
                    try engine.sendBlocking(.get, fullPath, timeout: nil) { chunk in
                        do {
                            try digest.withLock { try $0.feed(chunk) }
                            return true
                        } catch {
                            failure.withLock { $0 = error }
                            return false
                        }
                    }
                }
            }
            if let error = failure.withLock({ $0 }) {
                throw EngineError(.malformedReply, "\(error)", operation: "GET archive").within(
                    context + ": GET archive failed")
            }
            _ = try await step(context, "GET archive") { try outcome.get() }
            let result = digest.withLock { $0 }
            guard result.isComplete else {
                throw EngineError(.malformedReply, "the archive ended before its end blocks", operation: "GET archive")
                    .within(context + ": GET archive failed")
            }
            return result
        }
    }

    /// Digests `volume` on both engines, concurrently, for a check after `copyVolume`: a cheap
    /// guard against accidental damage (a truncated relay, a lost file, a changed owner), not
    /// against tampering, since the hash is not cryptographic.
    ///
    /// The comparison holds when the target volume held nothing before the copy and neither
    /// volume was written since.
    /// - Parameter helperImage: an image present on both engines; it is never run.
    public static func verifyVolumeCopy(
        _ volume: String, from source: EngineClient, to target: EngineClient, helperImage: String
    ) async throws -> VolumeComparison {
        async let sourceDigest = volumeDigest(volume, on: source, helperImage: helperImage)
        let targetDigest = try await volumeDigest(volume, on: target, helperImage: helperImage)
        return VolumeComparison(source: try await sourceDigest, target: targetDigest)
    }

    // MARK: - Images

    /// Makes sure `target` has the image `reference` names, copying it from `source` when it has
    /// not (`GET /images/{name}/get` relayed into `POST /images/load`), with its layers,
    /// configuration and every tag the source gives that image.
    /// - Parameter bufferLimit: bytes held between the two engines at most; nil for `defaultBufferLimit`.
    /// - Returns: true when the image was copied, false when `target` had it already.
    /// - Throws: `EngineError` naming the image, the engine and the step; `.notFound` when neither
    ///   engine has the image.
    @discardableResult
    public static func ensureImage(
        _ reference: String, from source: EngineClient, on target: EngineClient, bufferLimit: Int? = nil
    ) async throws -> Bool {
        let context = "copying image \(reference) from \(source.host) to \(target.host)"
        if try await step(
            context, "inspecting the image on \(target.host)", { try await target.imageExists(reference) })
        {
            return false
        }
        _ = try await step(context, "inspecting the image on \(source.host)") {
            try await source.inspectImage(reference)
        }
        _ = try await relay(
            from: source, get: "/images/\(source.pathSegment(reference))/get", query: [],
            bufferLimit: bufferLimit ?? defaultBufferLimit, observe: nil,
            into: { body in try await target.loadImages(archive: body) }, context: context,
            readStep: "GET image from \(source.host)", writeStep: "loading the image into \(target.host)")
        guard
            try await step(
                context, "inspecting the loaded image on \(target.host)",
                {
                    try await target.imageExists(reference)
                })
        else {
            throw EngineError(.malformedReply, "the engine loaded the archive but has no image \(reference)")
                .within(context)
        }
        return true
    }

    // MARK: - Relay

    /// Streams the reply of `GET path` on `source` into the request `write` sends, through a
    /// `ChunkPipe`: the GET runs blocking on a thread of its own (its sink waits while the pipe is
    /// full, which must not stall the shared multi loop), the write runs on the multi loop with
    /// a streamed body that takes from the pipe.
    /// - Parameter observe: sees each chunk and the running total on the reading thread; throwing
    ///   stops the relay with that error as the read's failure.
    /// - Returns: the bytes relayed.
    /// - Throws: the read's failure when it failed (the root cause, also when it aborted the
    ///   write), else the write's, each as an `EngineError` within `context` and its step.
    static func relay(
        from source: EngineClient, get path: String, query: [(String, String?)], bufferLimit: Int,
        observe: (@Sendable ([UInt8], Int64) throws -> Void)?,
        into write: (HTTPRequestBody) async throws -> Void,
        context: String, readStep: String, writeStep: String
    ) async throws -> Int64 {
        let fullPath = try await step(context, readStep) { try await source.path(path, query: query, versioned: true) }
        let pipe = ChunkPipe(limit: max(bufferLimit / 2, 1))
        let total = Mutex<Int64>(0)
        let observerFailure = Mutex<(any Error)?>(nil)
        async let reading: (any Error)? = onThread(named: "ccorc-relay") {
            do {
                _ = try source.sendBlocking(.get, fullPath, timeout: nil) { chunk in
                    let sum = total.withLock { value in
                        value += Int64(chunk.count)
                        return value
                    }
                    do {
                        try observe?(chunk, sum)
                    } catch {
                        observerFailure.withLock { $0 = error }
                        return false
                    }
                    return pipe.write(chunk)
                }
            } catch {
                pipe.fail(error)
                return error
            }
            if let error = observerFailure.withLock({ $0 }) {
                pipe.fail(error)
                return error
            }
            pipe.finish()
            return nil
        }
        var writeFailure: (any Error)?
        do {
            try await write(.stream(HTTPBodyStream(bufferLimit: max(bufferLimit / 2, 1)) { try pipe.read() }))
        } catch {
            writeFailure = error
        }
        // Whatever the write's outcome: a reader that stopped early must not leave the GET waiting.
        pipe.close()
        if let readFailure = await reading {
            if readFailure is EngineError {
                throw engineError(readFailure, within: context, readStep)
            }
            // The observer's own complaint: the reply was not the archive it should be.
            throw EngineError(.malformedReply, "\(readFailure)", operation: readStep).within(
                context + ": \(readStep) failed")
        }
        if let writeFailure { throw engineError(writeFailure, within: context, writeStep) }
        return total.withLock { $0 }
    }

    // MARK: - Helpers

    /// Runs `body` with a new helper container on `engine` that mounts `volume` at `mountPath`,
    /// and removes the helper afterwards, whether `body` succeeded, failed or was cancelled.
    static func withHelper<Result: Sendable>(
        for volume: String, on engine: EngineClient, image: String, context: String,
        _ body: (String) async throws -> Result
    ) async throws -> Result {
        var spec = ContainerSpec(image: image, name: "ccorc-copy-" + randomSuffix())
        // Never started: the command only satisfies create for an image that has none.
        spec.command = ["true"]
        spec.networkMode = "none"
        // Whose it is: a cleanup removes a helper whose process is gone (see `isAbandoned`).
        spec.labels = [helperLabel: ProcessIdentity.current?.labelValue ?? "unknown"]
        spec.mounts = [MountSpec(kind: .volume, source: volume, target: mountPath)]
        let helper = try await step(context, "creating a helper container on \(engine.host)") {
            try await engine.createContainer(spec)
        }
        let result: Result
        do {
            result = try await body(helper)
        } catch {
            await removeHelper(helper, on: engine)
            throw error
        }
        await removeHelper(helper, on: engine)
        return result
    }

    /// Removes a helper container, anonymous volumes included, and never the named volume;
    /// outside the caller's cancellation, so that a cancelled copy still cleans up. A failure is
    /// left for a cleanup by label: the caller's own outcome matters more.
    private static func removeHelper(_ helper: String, on engine: EngineClient) async {
        await uncancelled { try? await engine.removeContainer(helper, force: true, volumes: true) }
    }

    /// Runs `body` in a task of its own, which the caller's cancellation does not reach.
    private static func uncancelled(_ body: @escaping @Sendable () async -> Void) async {
        await Task.detached(operation: body).value
    }

    /// Runs one step of a transfer, putting `context` and the step's name before its failure.
    private static func step<Result>(
        _ context: String, _ name: String, _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch {
            throw engineError(error, within: context, name)
        }
    }

    private static func engineError(_ error: any Error, within context: String, _ step: String) -> EngineError {
        let engineError = error as? EngineError ?? EngineError(.server, "\(error)")
        return engineError.within(context + ": \(step) failed")
    }

    /// The volume `name` on `engine`, or nil when there is none.
    private static func volumeIfPresent(_ name: String, on engine: EngineClient) async throws -> Volume? {
        do {
            return try await engine.inspectVolume(name)
        } catch let error as EngineError where error.code == .notFound {
            return nil
        }
    }

    private static func randomSuffix() -> String {
        String(UInt64.random(in: 0..<UInt64.max), radix: 16)
    }
}
