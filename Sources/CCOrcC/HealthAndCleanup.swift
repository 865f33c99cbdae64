import CCOrcHeader
import CCOrcKit

// `ccorc_health` and `ccorc_cleanup`: the same health report and cleanup as `ccorc health --json`
// and `ccorc cleanup --yes --json`.

/// What `ccorc_cleanup` was asked to remove.
struct CleanupRequest: Sendable {
    var names: [SessionName]
    var patterns: [GlobPattern]
    var stoppedOnly: Bool
    var dryRun: Bool
    var keepVolumes: Bool

    init(_ options: ccorc_cleanup_options) throws {
        names = try sessionNames(options.names, count: options.name_count)
        patterns = try stringArray(options.patterns, count: options.pattern_count, "patterns").map(GlobPattern.init)
        stoppedOnly = options.stopped_only != 0
        dryRun = options.dry_run != 0
        keepVolumes = options.keep_volumes != 0
        guard !names.isEmpty || !patterns.isEmpty || stoppedOnly else {
            throw BoundaryError.invalid("name sessions, give patterns or ask for stopped-only sessions")
        }
    }
}

/// The health report of `names` (every registered session when empty), as JSON.
func healthReportJSON(_ manager: SessionManager, names: [SessionName]) async throws -> JSONValue {
    try await (names.isEmpty ? manager.healthOfAll() : manager.health(of: names)).jsonValue
}

/// Removes what `request` selects (or, with `dryRun`, only plans it): the summary as JSON, and the
/// first failure, which becomes the call's status (as for launch and stop).
func cleanupSummary(_ manager: SessionManager, _ request: CleanupRequest) async throws -> BulkOutcome {
    var selection = CleanupSelection()
    selection.names = request.names
    selection.patterns = request.patterns
    selection.stoppedOnly = request.stoppedOnly
    let plan = try await manager.planCleanup(selection)
    if let unknown = plan.unknownNames.first { throw SessionError(.notFound, "session \(unknown) not found (see `ccorc list`)") }
    if request.dryRun { return BulkOutcome(json: plan.jsonValue, firstFailure: nil) }
    let report = await manager.cleanup(plan, keepVolumes: request.keepVolumes)
    let failure = report.results.lazy.compactMap { result -> SessionError? in
        guard case .failed(let message) = result.outcome else { return nil }
        return SessionError(.stepFailed, "\(result.name): \(message)")
    }.first
    return BulkOutcome(json: report.jsonValue, firstFailure: failure)
}

/// Health of sessions (`ccorc_health` in ccorc.h).
@_cdecl("ccorc_health")
public func cHealth(
    _ handle: OpaquePointer?, _ names: StringArrayPointer?, _ nameCount: Int, _ report: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedCall(report, error) {
        let manager = try SessionHandle.from(handle).manager
        let names = try sessionNames(names, count: nameCount)
        return try waitFor { try await healthReportJSON(manager, names: names) }
    }
}

/// Default cleanup options (`ccorc_cleanup_options_init` in ccorc.h).
@_cdecl("ccorc_cleanup_options_init")
public func cCleanupOptionsInit(_ options: UnsafeMutablePointer<ccorc_cleanup_options>?) {
    initializeOptions(options)
}

/// Removes sessions by name, pattern or stopped-only (`ccorc_cleanup` in ccorc.h).
@_cdecl("ccorc_cleanup")
public func cCleanup(
    _ handle: OpaquePointer?, _ options: UnsafePointer<ccorc_cleanup_options>?, _ summary: ResultPointer?, _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedBulkCall(summary, error) {
        let manager = try SessionHandle.from(handle).manager
        guard let options else { throw BoundaryError.invalid("the cleanup options must not be NULL") }
        let request = try CleanupRequest(try initializedOptions(options, "ccorc_cleanup_options_init"))
        return try waitFor { try await cleanupSummary(manager, request) }
    }
}
