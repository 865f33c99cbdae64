import CCOrcHeader
import CCOrcKit

// `ccorc_health` and `ccorc_cleanup`: the same health report and cleanup as `ccorc health --json`
// and `ccorc cleanup --yes --json`.

/// What `ccorc_cleanup` was asked to remove.
struct CleanupRequest: Sendable {
    var selection = CleanupSelection()
    var dryRun: Bool
    var keepVolumes: Bool
    var jobs: Int

    /// The size of `ccorc_cleanup_options` before `older_than_seconds` and the fields after it.
    static let oldestSize = MemoryLayout<ccorc_cleanup_options>.offset(of: \ccorc_cleanup_options.older_than_seconds)!

    init(_ options: ccorc_cleanup_options) throws {
        selection.names = try sessionNames(options.names, count: options.name_count)
        selection.patterns = try stringArray(options.patterns, count: options.pattern_count, "patterns").map(
            GlobPattern.init)
        selection.stoppedOnly = options.stopped_only != 0
        guard options.older_than_seconds >= 0, options.older_than_seconds.isFinite else {
            throw BoundaryError.invalid(
                "older_than_seconds must be 0 (no age condition) or more, not \(options.older_than_seconds)")
        }
        selection.olderThan = options.older_than_seconds > 0 ? options.older_than_seconds : nil
        selection.fixBroken = options.fix_broken != 0
        selection.dropBroken = options.drop != 0
        selection.orphans = options.orphans != 0
        dryRun = options.dry_run != 0
        keepVolumes = options.keep_volumes != 0
        guard options.jobs >= 0 else {
            throw BoundaryError.invalid("jobs must be 0 (the default) or more, not \(options.jobs)")
        }
        jobs = options.jobs == 0 ? SessionManager.defaultCleanupJobs : Int(options.jobs)
        if selection.dropBroken && !selection.fixBroken { throw BoundaryError.invalid("drop goes with fix_broken") }
        guard !selection.isEmpty else {
            throw BoundaryError.invalid(
                "name sessions, give patterns, or ask for stopped-only, older-than, broken sessions or orphans")
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
    let plan = try await manager.planCleanup(request.selection)
    if let unknown = plan.unknownNames.first { throw SessionError.sessionNotFound(unknown) }
    if request.dryRun { return BulkOutcome(json: plan.jsonValue, firstFailure: nil) }
    let report = await manager.cleanup(plan, keepVolumes: request.keepVolumes, jobs: request.jobs)
    let failure = report.results.lazy.compactMap { result -> SessionError? in
        guard case .failed(let message) = result.outcome else { return nil }
        return SessionError(.stepFailed, "\(result.name): \(message)")
    }.first
    return BulkOutcome(json: report.jsonValue, firstFailure: failure)
}

/// Health of sessions (`ccorc_health` in ccorc.h).
@_cdecl("ccorc_health")
public func cHealth(
    _ handle: OpaquePointer?, _ names: StringArrayPointer?, _ nameCount: Int, _ report: ResultPointer?,
    _ error: UnsafeMutablePointer<ccorc_error>?
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
    _ handle: OpaquePointer?, _ options: UnsafePointer<ccorc_cleanup_options>?, _ summary: ResultPointer?,
    _ error: UnsafeMutablePointer<ccorc_error>?
) -> ccorc_status {
    exportedBulkCall(summary, error) {
        let manager = try SessionHandle.from(handle).manager
        guard let options else { throw BoundaryError.invalid("the cleanup options must not be NULL") }
        let request = try CleanupRequest(
            try initializedOptions(options, "ccorc_cleanup_options_init", oldestSize: CleanupRequest.oldestSize))
        return try waitFor { try await cleanupSummary(manager, request) }
    }
}
