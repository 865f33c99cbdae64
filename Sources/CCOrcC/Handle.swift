import CCOrcHeader
import CCOrcKit
import Glibc

/// What a `ccorc_handle *` points to: one session manager over one engine, tmux server and registry.
final class SessionHandle {
    let manager: SessionManager
    /// The ccorc_watch calls under way, which ccorc_watch_stop ends.
    let watches = ActiveWatches()

    init(_ options: ccorc_options?) throws {
        let engineHost = try optionalString(options?.engine_host, "engine_host")
        let tmuxServer = try optionalString(options?.tmux_server, "tmux_server")
        let tmuxSocket = try optionalString(options?.tmux_socket, "tmux_socket")
        let home = try optionalString(options?.home, "home")
        let ccdk = try optionalString(options?.ccdk_path, "ccdk_path")
        var environment = ProcessEnvironment.current
        let server: TmuxServer =
            tmuxSocket.map { .socket($0) } ?? tmuxServer.map { .named($0) } ?? .fromEnvironment(environment)
        try server.validate()
        // The engines as the CLI sees them: `engine_host` is the current engine as DOCKER_HOST
        // would be, and sessions on other engines are found through the docker contexts.
        if let engineHost { environment["DOCKER_HOST"] = engineHost }
        let engines = try EnginePool(environment: environment)
        let registry = try SessionRegistry(home: home ?? SessionRegistry.defaultHome(environment: environment))
        // The C ABI has no channel for warnings but stderr, where the CLI puts them too.
        for warning in registry.warnings { StandardStream.error.write("ccorc: warning: \(warning)\n") }
        manager = try SessionManager(
            engines: engines, tmux: TmuxControlClient(server: server), registry: registry, shellProgram: ccdk ?? "ccdk")
    }

    /// The handle behind a C pointer; the caller keeps it open for the call's duration.
    static func from(_ pointer: OpaquePointer?) throws -> SessionHandle {
        guard let pointer else { throw BoundaryError.invalid("the handle must not be NULL") }
        return Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

/// The version string, made once and never freed.
nonisolated(unsafe) private let versionCString: UnsafeMutablePointer<CChar>? = strdup(CCORC_VERSION)

/// The library version (`ccorc_version` in ccorc.h).
@_cdecl("ccorc_version")
public func cVersion() -> UnsafePointer<CChar>? {
    UnsafePointer(versionCString)
}

/// The name of a status code (`ccorc_status_name` in ccorc.h).
@_cdecl("ccorc_status_name")
public func cStatusName(_ status: ccorc_status) -> UnsafePointer<CChar> {
    let name: StaticString
    switch status {
    case CCORC_OK: name = "CCORC_OK"
    case CCORC_ERR_INVALID_ARGUMENT: name = "CCORC_ERR_INVALID_ARGUMENT"
    case CCORC_ERR_NOT_FOUND: name = "CCORC_ERR_NOT_FOUND"
    case CCORC_ERR_ALREADY_EXISTS: name = "CCORC_ERR_ALREADY_EXISTS"
    case CCORC_ERR_CONFLICT: name = "CCORC_ERR_CONFLICT"
    case CCORC_ERR_ENGINE_UNREACHABLE: name = "CCORC_ERR_ENGINE_UNREACHABLE"
    case CCORC_ERR_ENGINE: name = "CCORC_ERR_ENGINE"
    case CCORC_ERR_TMUX: name = "CCORC_ERR_TMUX"
    case CCORC_ERR_REGISTRY: name = "CCORC_ERR_REGISTRY"
    case CCORC_ERR_SESSION: name = "CCORC_ERR_SESSION"
    case CCORC_ERR_UNSUPPORTED: name = "CCORC_ERR_UNSUPPORTED"
    case CCORC_ERR_INTERNAL: name = "CCORC_ERR_INTERNAL"
    default: name = "CCORC_ERR_UNKNOWN"
    }
    // String literals are stored NUL-terminated for the life of the program.
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Frees a string the library returned (`ccorc_free` in ccorc.h).
@_cdecl("ccorc_free")
public func cFree(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}

/// Default handle options (`ccorc_options_init` in ccorc.h).
@_cdecl("ccorc_options_init")
public func cOptionsInit(_ options: UnsafeMutablePointer<ccorc_options>?) {
    initializeOptions(options)
}

/// Default launch options (`ccorc_launch_options_init` in ccorc.h).
@_cdecl("ccorc_launch_options_init")
public func cLaunchOptionsInit(_ options: UnsafeMutablePointer<ccorc_launch_options>?) {
    initializeOptions(options)
}

/// Opens a handle (`ccorc_open` in ccorc.h).
@_cdecl("ccorc_open")
public func cOpen(
    _ options: UnsafePointer<ccorc_options>?, _ handle: UnsafeMutablePointer<OpaquePointer?>?,
    _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    handle?.pointee = nil
    return exportedCall(error) {
        guard let handle else { throw BoundaryError.invalid("the handle pointer must not be NULL") }
        let opened = try SessionHandle(try options.map { try initializedOptions($0, "ccorc_options_init") })
        handle.pointee = OpaquePointer(Unmanaged.passRetained(opened).toOpaque())
    }
}

/// Closes a handle (`ccorc_close` in ccorc.h).
@_cdecl("ccorc_close")
public func cClose(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let closed = Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(handle)).takeRetainedValue()
    closed.manager.tmux.close()
}
