// Archive endpoint: HEAD, GET and PUT /containers/{id}/archive.

/// A path inside a container, as the archive endpoint's `X-Docker-Container-Path-Stat` header
/// describes it.
public struct ContainerPathStat: Sendable, Equatable {
    /// The file's base name.
    public var name: String
    /// Its size in bytes.
    public var size: Int64
    /// Go's `os.FileMode` bits: permissions in the low bits, the directory flag at bit 31.
    public var mode: UInt32
    /// Where a symbolic link points; empty otherwise.
    public var linkTarget: String

    /// Whether the path is a directory.
    public var isDirectory: Bool { mode & (1 << 31) != 0 }
}

extension EngineClient {
    /// Describes a path inside a container without copying it (`HEAD /containers/{id}/archive`);
    /// works on stopped containers too, since the engine mounts the container's filesystem.
    /// - Returns: nil when the path does not exist (the engine's 404 for a present container).
    /// - Throws: `EngineError.notFound` when the container does not exist.
    public func pathStat(_ container: String, path: String) async throws -> ContainerPathStat? {
        let operation = "HEAD /containers/{id}/archive"
        let reply: HTTPResponse
        do {
            reply = try await send(.head, "/containers/\(pathSegment(container))/archive", query: [("path", path)])
        } catch let error as EngineError where error.code == .notFound {
            // A HEAD reply has no body to tell a missing path from a missing container.
            _ = try await inspectContainer(container)
            return nil
        }
        guard let encoded = reply.header("x-docker-container-path-stat"), let data = Base64.decode(encoded) else {
            throw EngineError(
                .malformedReply, "archive reply without an X-Docker-Container-Path-Stat header", operation: operation)
        }
        let stat = try parse(data, operation: operation)
        guard let name = stat["name"]?.string, let mode = stat["mode"]?.int else {
            throw EngineError(.malformedReply, "path stat without name or mode", operation: operation)
        }
        return ContainerPathStat(
            name: name, size: stat["size"]?.int ?? 0, mode: UInt32(truncatingIfNeeded: mode),
            linkTarget: stat["linkTarget"]?.string ?? "")
    }

    /// Copies a path out of a container as a tar archive (`GET /containers/{id}/archive`); works
    /// on created and stopped containers too.
    /// - Returns: nil when the path does not exist in the container.
    /// - Throws: `EngineError.notFound` when the container does not exist.
    public func copyFromContainer(_ container: String, path: String) async throws -> [UInt8]? {
        do {
            return try await send(.get, "/containers/\(pathSegment(container))/archive", query: [("path", path)]).body
        } catch let error as EngineError where error.code == .notFound {
            // The engine says "Could not find the file" for a path, "No such container" otherwise.
            if error.message.lowercased().contains("no such container") { throw error }
            return nil
        }
    }

    /// Extracts a tar archive into a directory of a container (`PUT /containers/{id}/archive`);
    /// works on created and stopped containers too, and on the volumes mounted in them.
    ///
    /// Members keep the owner, group, mode and modification time their headers give (the engine
    /// is not asked to `copyUIDGID`, which would make them the container user's instead);
    /// existing files of the same names are replaced.
    /// - Parameters:
    ///   - path: a directory that exists in the container; `a/b` in the archive lands at `path/a/b`.
    ///   - archive: the tar, in memory or streamed (`HTTPRequestBody.stream`).
    /// - Throws: `EngineError.notFound` when the container or `path` does not exist; the producer's
    ///   own error when a streamed body fails (the engine keeps what it extracted so far).
    public func copyToContainer(_ container: String, path: String, archive: HTTPRequestBody) async throws {
        _ = try await send(
            .put, "/containers/\(pathSegment(container))/archive", query: [("path", path)], body: archive,
            contentType: "application/x-tar", timeout: nil)
    }
}
