import CCOrcHeader
import CCOrcKit

#if canImport(Glibc)
    import Glibc
#endif

// `ccorc_export`, `ccorc_import` and `ccorc_recover`: the same export document, import and
// registry recovery as `ccorc export`, `ccorc import` and `ccorc recover`.

/// Reads and checks export files before anything changes: a missing file is NOT_FOUND, an
/// unreadable or malformed one INVALID_ARGUMENT, each with the file's name in the message.
func readExportFiles(_ paths: [String]) throws -> [ExportedSession] {
    var sessions: [ExportedSession] = []
    for path in paths {
        let bytes: [UInt8]
        do {
            bytes = try readFileBytes(path)
        } catch {
            let missing = access(path, F_OK) != 0 && errno == ENOENT
            throw BoundaryError(missing ? .notFound : .invalidInput, "\(error)")
        }
        do {
            sessions += try SessionManager.parseExport(bytes, source: path)
        } catch {
            throw BoundaryError.invalid(error.description)
        }
    }
    return sessions
}

/// Exports sessions (`ccorc_export` in ccorc.h).
@_cdecl("ccorc_export")
public func cExport(
    _ handle: OpaquePointer?, _ names: StringArrayPointer?, _ nameCount: Int, _ includeSecrets: Int32,
    _ export: ResultPointer?,
    _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(export, error) {
        let manager = try SessionHandle.from(handle).manager
        let names = try sessionNames(names, count: nameCount)
        let secrets = includeSecrets != 0
        let sessions = try waitFor {
            try await manager.exportWithDamage(names.isEmpty ? nil : names, includeSecrets: secrets).sessions
        }
        return SessionExportFormat.document(sessions, includeSecrets: secrets)
    }
}

/// Default import options (`ccorc_import_options_init` in ccorc.h).
@_cdecl("ccorc_import_options_init")
public func cImportOptionsInit(_ options: UnsafeMutablePointer<ccorc_import_options>?) {
    initializeOptions(options)
}

/// Registers the sessions of export files (`ccorc_import` in ccorc.h).
@_cdecl("ccorc_import")
public func cImport(
    _ handle: OpaquePointer?, _ paths: StringArrayPointer?, _ pathCount: Int,
    _ options: UnsafePointer<ccorc_import_options>?,
    _ result: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(result, error) {
        let manager = try SessionHandle.from(handle).manager
        let paths = try stringArray(paths, count: pathCount, "paths")
        guard !paths.isEmpty else { throw BoundaryError.invalid("name at least one export file") }
        let options = try options.map { try initializedOptions($0, "ccorc_import_options_init") }
        let create = (options?.create ?? 0) != 0
        let force = (options?.force ?? 0) != 0
        let sessions = try readExportFiles(paths)
        let imported = try waitFor { try await manager.importSessions(sessions, create: create, force: force) }
        return ImportedSession.jsonValue(imported)
    }
}

/// Rebuilds missing registry entries from labels (`ccorc_recover` in ccorc.h).
@_cdecl("ccorc_recover")
public func cRecover(
    _ handle: OpaquePointer?, _ dryRun: Int32, _ report: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(report, error) {
        let manager = try SessionHandle.from(handle).manager
        let dryRun = dryRun != 0
        return try waitFor { try await manager.recoverRegistry(dryRun: dryRun).jsonValue }
    }
}
