import Synchronization

// Image endpoints: /images/json, /images/{name}/json, /images/{name}, /images/{name}/tag,
// /images/create?fromSrc=-, /images/load, /build.

/// An image as the engine lists or inspects it.
public struct ImageSummary: Sendable {
    /// The image ID (`sha256:...`).
    public var id: String
    /// `repo:tag` references.
    public var repoTags: [String]
    /// Size in bytes.
    public var size: Int64
    /// Creation time, Unix seconds (list) or 0 when unknown.
    public var created: Int64
    /// Labels.
    public var labels: [String: String]
    /// How containers of the image run by default; inspect only (a list leaves it empty).
    public var config: ImageConfig

    init(json: JSONValue) throws {
        guard let id = json["Id"]?.string else {
            throw EngineError(.malformedReply, "image without an Id", operation: "images")
        }
        self.id = id
        repoTags = json["RepoTags"]?.stringArray ?? []
        size = json["Size"]?.int ?? 0
        created = json["Created"]?.int ?? 0
        labels = json["Labels"]?.stringMap ?? json["Config"]?["Labels"]?.stringMap ?? [:]
        config = ImageConfig(json: json["Config"])
    }
}

/// The part of an image's `Config` that decides where a container's user lives: what the image's
/// `USER`, `ENV`, `WORKDIR` and `VOLUME` lines set.
public struct ImageConfig: Sendable, Equatable {
    /// `USER`: a name or uid, optionally `:group`; empty for root.
    public var user: String
    /// `ENV` entries, `KEY=VALUE`.
    public var environment: [String]
    /// `WORKDIR`; empty for `/`.
    public var workingDirectory: String
    /// The paths `VOLUME` declares, sorted: each gets an anonymous volume in every container
    /// that does not mount something there itself.
    public var volumes: [String]

    /// A configuration; see the properties.
    public init(user: String = "", environment: [String] = [], workingDirectory: String = "", volumes: [String] = []) {
        self.user = user
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.volumes = volumes
    }

    init(json: JSONValue?) {
        user = json?["User"]?.string ?? ""
        environment = json?["Env"]?.stringArray ?? []
        workingDirectory = json?["WorkingDir"]?.string ?? ""
        volumes = json?["Volumes"]?.object.map { $0.keys.sorted() } ?? []
    }

    /// The value of `name` in `ENV`, when the image sets it.
    public func environmentValue(_ name: String) -> String? {
        environment.last { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}

extension EngineClient {
    /// Lists images (`GET /images/json`).
    public func listImages(filters: [String: [String]] = [:]) async throws -> [ImageSummary] {
        let reply = try await json(.get, "/images/json", query: [("filters", EngineClient.filtersQuery(filters))])
        guard let entries = reply.array else {
            throw EngineError(.malformedReply, "expected a list of images", operation: "GET /images/json")
        }
        return try entries.map(ImageSummary.init(json:))
    }

    /// Inspects an image (`GET /images/{name}/json`).
    public func inspectImage(_ reference: String) async throws -> ImageSummary {
        try ImageSummary(json: try await json(.get, "/images/\(pathSegment(reference))/json"))
    }

    /// Whether an image exists locally.
    public func imageExists(_ reference: String) async throws -> Bool {
        try await imageID(reference) != nil
    }

    /// The ID (`sha256:...`) of the local image `reference` names; nil when there is none.
    public func imageID(_ reference: String) async throws -> String? {
        do {
            return try await inspectImage(reference).id
        } catch let error as EngineError where error.code == .notFound {
            return nil
        }
    }

    /// Removes an image (`DELETE /images/{name}`).
    public func removeImage(_ reference: String, force: Bool = false) async throws {
        _ = try await send(.delete, "/images/\(pathSegment(reference))", query: [("force", EngineClient.flag(force))])
    }

    /// Builds an image from a tar of a build context (`POST /build`), handing each line of the
    /// build's output to `progress` as it arrives.
    /// - Returns: the new image's ID.
    /// - Throws: `EngineError` with the builder's own message when a step fails.
    public func buildImage(
        context: [UInt8], tag: String, dockerfile: String = "Dockerfile", progress: @escaping @Sendable (String) -> Void
    ) async throws -> String {
        try await buildImage(body: .bytes(context), tag: tag, dockerfile: dockerfile, progress: progress)
    }

    /// Builds an image from a build context directory (`POST /build`), archiving it while it is
    /// uploaded (see `DirectoryArchiver`), and hands each line of the build's output to `progress`.
    /// - Returns: the new image's ID.
    /// - Throws: `TarError` before any request when `directory` is not a directory, and naming the
    ///   path when a file cannot be read as it was listed (the upload is then aborted);
    ///   `EngineError` with the builder's own message when a step fails.
    public func buildImage(
        contextDirectory directory: String, tag: String, dockerfile: String = "Dockerfile",
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> String {
        let archiver = try DirectoryArchiver(directory: directory)
        return try await buildImage(
            body: .stream(HTTPBodyStream { try archiver.nextChunk() }), tag: tag, dockerfile: dockerfile,
            progress: progress)
    }

    private func buildImage(
        body: HTTPRequestBody, tag: String, dockerfile: String, progress: @escaping @Sendable (String) -> Void
    ) async throws -> String {
        let parser = Mutex(ProgressMessages(operation: "POST /build"))
        let outcome = Mutex<(id: String?, error: String?)>((nil, nil))
        _ = try await send(
            .post, "/build", query: [("t", tag), ("dockerfile", dockerfile), ("rm", "1"), ("forcerm", "1")],
            body: body, contentType: "application/x-tar", timeout: nil
        ) { chunk in
            guard let messages = try? parser.withLock({ try $0.feed(chunk) }) else { return false }
            for message in messages {
                if let text = message["stream"]?.string { progress(text) }
                if let status = message["status"]?.string { progress(status + "\n") }
                if let id = message["aux"]?["ID"]?.string { outcome.withLock { $0.id = id } }
                if let error = message["error"]?.string ?? message["errorDetail"]?["message"]?.string {
                    outcome.withLock { $0.error = error }
                }
            }
            return true
        }
        let (id, error) = outcome.withLock { ($0.id, $0.error) }
        if let error {
            throw EngineError(
                .invalidArgument, "build failed: \(error.trimmingWhitespaceAndNewlines())", operation: "POST /build")
        }
        guard let id else {
            throw EngineError(.malformedReply, "build finished without an image ID", operation: "POST /build")
        }
        return id
    }

    /// Imports a root filesystem tarball as an image (`POST /images/create?fromSrc=-`).
    /// - Parameters:
    ///   - tarball: an uncompressed or gzip tar of the filesystem.
    ///   - repository, tag: the reference to give it.
    ///   - changes: Dockerfile instructions to apply, e.g. `CMD ["sh"]`.
    /// - Returns: the new image's ID.
    public func importImage(
        tarball: [UInt8], repository: String, tag: String = "latest", changes: [String] = []
    ) async throws -> String {
        try await importImage(body: .bytes(tarball), repository: repository, tag: tag, changes: changes)
    }

    /// Imports a root filesystem directory as an image (`POST /images/create?fromSrc=-`),
    /// archiving it while it is uploaded: owners, modes, mtimes and links are kept (see
    /// `DirectoryArchiver`), and memory stays at a few megabytes whatever the tree's size.
    /// - Parameters:
    ///   - directory: the root of the filesystem; its own owner and mode are not archived.
    ///   - repository, tag: the reference to give it.
    ///   - changes: Dockerfile instructions to apply, e.g. `CMD ["sh"]`.
    /// - Returns: the new image's ID.
    /// - Throws: `TarError` before any request when `directory` is not a directory, and naming the
    ///   path when a file cannot be read as it was listed: the upload is then aborted and the
    ///   engine makes no image.
    public func importImage(
        directory: String, repository: String, tag: String = "latest", changes: [String] = []
    ) async throws -> String {
        let archiver = try DirectoryArchiver(directory: directory)
        return try await importImage(
            body: .stream(HTTPBodyStream { try archiver.nextChunk() }), repository: repository, tag: tag,
            changes: changes)
    }

    private func importImage(
        body: HTTPRequestBody, repository: String, tag: String, changes: [String]
    ) async throws -> String {
        var query: [(String, String?)] = [("fromSrc", "-"), ("repo", repository), ("tag", tag)]
        query += changes.map { ("changes", $0) }
        let response = try await send(
            .post, "/images/create", query: query, body: body, contentType: "application/x-tar", timeout: 600)
        let messages = try ProgressMessages.parseFailing(response.body, operation: "POST /images/create")
        guard let status = messages.last?["status"]?.string else {
            throw EngineError(.malformedReply, "import reply without a status", operation: "POST /images/create")
        }
        return status
    }
}

extension EngineClient {
    /// Gives an image a further reference (`POST /images/{name}/tag`), as `docker tag` does.
    /// - Throws: `EngineError.notFound` when `source` names no local image.
    public func tagImage(_ source: String, repository: String, tag: String = "latest") async throws {
        _ = try await send(.post, "/images/\(pathSegment(source))/tag", query: [("repo", repository), ("tag", tag)])
    }

    /// Loads images from an archive that `GET /images/{name}/get` made (`POST /images/load`),
    /// with their layers, configuration and references.
    /// - Parameter archive: the archive, in memory or streamed (`HTTPRequestBody.stream`).
    /// - Returns: what the engine reported, e.g. `Loaded image: repo:tag`, one line each.
    /// - Throws: `EngineError` with the engine's message when the archive is not one it can load.
    @discardableResult
    public func loadImages(archive: HTTPRequestBody) async throws -> [String] {
        let operation = "POST /images/load"
        let response = try await send(
            .post, "/images/load", query: [("quiet", "1")], body: archive, contentType: "application/x-tar",
            timeout: nil)
        return try ProgressMessages.parseFailing(response.body, operation: operation).compactMap {
            $0["stream"]?.string?.trimmingWhitespaceAndNewlines()
        }
    }
}

/// The engine's progress streams: one JSON object after another (image import, build, pull),
/// split as they arrive, across arbitrary chunk boundaries.
struct ProgressMessages {
    private var buffer: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var start: Int?
    private var scanned = 0
    private let operation: String

    init(operation: String) {
        self.operation = operation
    }

    /// Splits a whole reply body and parses each message.
    static func parse(_ body: [UInt8], operation: String) throws -> [JSONValue] {
        var parser = ProgressMessages(operation: operation)
        let messages = try parser.feed(body)
        if parser.depth != 0 { throw EngineError(.malformedReply, "truncated progress stream", operation: operation) }
        return messages
    }

    /// Splits a whole reply body and parses each message, throwing the first one that reports
    /// an error (the engine answers 200 and tells of a failure inside the stream).
    static func parseFailing(_ body: [UInt8], operation: String) throws -> [JSONValue] {
        let messages = try parse(body, operation: operation)
        if let failure = messages.first(where: { $0["error"] != nil || $0["errorDetail"] != nil }) {
            let message = failure["error"]?.string ?? failure["errorDetail"]?["message"]?.string ?? "failed"
            throw EngineError(.server, message, operation: operation)
        }
        return messages
    }

    /// Adds received bytes and returns every message now complete.
    mutating func feed(_ bytes: [UInt8]) throws -> [JSONValue] {
        buffer += bytes
        var messages: [JSONValue] = []
        var consumed = 0
        while scanned < buffer.count {
            let byte = buffer[scanned]
            defer { scanned += 1 }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"):
                if depth == 0 { start = scanned }
                depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0, let begin = start {
                    do {
                        messages.append(try JSONValue.parse(Array(buffer[begin...scanned])))
                    } catch {
                        throw EngineError(.malformedReply, error.message, operation: operation)
                    }
                    start = nil
                    consumed = scanned + 1
                }
            default: break
            }
        }
        if depth == 0 { consumed = buffer.count }
        if consumed > 0 {
            buffer.removeFirst(consumed)
            scanned -= consumed
            if let begin = start { start = begin - consumed }
        }
        return messages
    }
}
