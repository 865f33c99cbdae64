import Foundation

extension SessionRecord {
    /// Whether the row came from the earlier Python tool's registry (`ccorc import --legacy`):
    /// its containers carry no ccorc labels and are matched by name alone.
    public var isLegacy: Bool { config["origin"]?.string == LegacyRegistry.origin }
}

/// The registry of the earlier Python tool, `~/.claude-orc/sessions.json`: an object from session
/// name to `{session_name, created_at, updated_at, tmux_session, containers, agents: [{name,
/// container, container_mode, model, pane_index}], orchestrator_config}`.
public enum LegacyRegistry {
    /// The `config.origin` of rows imported from it.
    public static let origin = "legacy"

    /// `~/.claude-orc/sessions.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".claude-orc/sessions.json")
    }

    /// Turns one entry into a row; the error says why it cannot be registered.
    /// - Parameter images: the image of each existing container, by name, for the record's image.
    static func record(key: String, entry: JSONValue, images: [String: String]) throws(EntryError) -> SessionRecord {
        guard entry.object != nil else { throw EntryError("is not an object") }
        let rawName = entry["session_name"]?.string ?? key
        guard let name = SessionName(rawValue: rawName) else {
            throw EntryError("has an invalid session name \(rawName.debugDescription) (\(SessionName.rule))")
        }
        let tmuxSession = entry["tmux_session"]?.string ?? rawName
        guard !tmuxSession.isEmpty, !tmuxSession.contains("."), !tmuxSession.contains(":") else {
            throw EntryError("has an invalid tmux session name \(tmuxSession.debugDescription)")
        }
        guard let agentEntries = entry["agents"]?.array, !agentEntries.isEmpty else { throw EntryError("lists no agents") }
        var agents: [AgentRecord] = []
        for (index, agent) in agentEntries.enumerated() {
            guard let rawRole = agent["name"]?.string, let role = AgentRole(rawValue: rawRole) else {
                throw EntryError("has an agent with an invalid name \((agent["name"]?.string ?? "(none)").debugDescription) (\(AgentRole.rule))")
            }
            guard let container = agent["container"]?.string, !container.isEmpty else {
                throw EntryError("has agent \(role) without a container")
            }
            if agents.contains(where: { $0.role == role }) { throw EntryError("lists agent \(role) twice") }
            agents.append(AgentRecord(
                role: role, containerName: container, containerID: nil, stateVolume: "", model: agent["model"]?.string,
                tmuxWindow: nil, position: Int(agent["pane_index"]?.int ?? Int64(index))))
        }
        let created = date(entry["created_at"]) ?? Date(timeIntervalSince1970: 0)
        let settings = entry["orchestrator_config"] ?? .null
        let image = settings["image"]?.string ?? agents.lazy.compactMap { images[$0.containerName] }.first ?? ""
        return SessionRecord(
            name: name, tmuxSession: tmuxSession, createdAt: created, updatedAt: date(entry["updated_at"]) ?? created,
            image: image, agentCommand: settings["agent_command"]?.string ?? "claude",
            config: ["origin": .string(origin), "legacy": entry], status: .ready, agents: agents)
    }

    /// The Python tool wrote `datetime.isoformat()` (local time, no zone) or unix seconds.
    static func date(_ value: JSONValue?) -> Date? {
        guard let value else { return nil }
        if let seconds = value.double { return Date(timeIntervalSince1970: seconds) }
        guard let text = value.string, !text.isEmpty else { return nil }
        if let date = EngineTime.parse(text.hasSuffix("Z") || text.contains("+") ? text : nil) { return date }
        var fraction = 0.0
        var main = Substring(text)
        if let dot = text.firstIndex(of: ".") {
            fraction = Double("0" + text[dot...].prefix { $0 == "." || $0.isNumber }) ?? 0
            main = text[..<dot]
        }
        let style = Date.ISO8601FormatStyle(timeZone: .current).year().month().day().dateTimeSeparator(.standard).time(includingFractionalSeconds: false)
        return (try? style.parse(String(main))).map { $0.addingTimeInterval(fraction) }
    }
}

/// Why one entry of a legacy registry or an export file cannot be used.
struct EntryError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The outcome of `import --legacy`.
public struct LegacyImportReport: Sendable {
    /// Sessions registered by this run.
    public var added: [SessionName]
    /// Sessions the registry already had (a second run adds nothing).
    public var alreadyRegistered: [SessionName]
    /// Entries that could not be registered: the entry's key and the reason.
    public var invalid: [(key: String, reason: String)]
}

/// A legacy registry file that cannot be read at all.
public struct LegacyImportError: Error, CustomStringConvertible, Sendable {
    /// The one-line message.
    public var description: String
}

extension SessionManager {
    /// Registers the sessions of the Python tool's registry file whose names are valid, and
    /// reports the rest. Nothing on the engine is created or labelled; the containers are found
    /// by name, so `list` shows their true states. Running it again adds nothing.
    ///
    /// - Throws: `LegacyImportError` when the file is missing or not a JSON object (nothing is
    ///   registered then), `RegistryError` when the registry fails.
    public func importLegacy(path: String) async throws -> LegacyImportReport {
        let bytes: [UInt8]
        do { bytes = try readFileBytes(path) } catch { throw LegacyImportError(description: "\(error)") }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw LegacyImportError(description: "\(path) is not a legacy registry: \(error)")
        }
        guard let entries = document.object else {
            throw LegacyImportError(description: "\(path) is not a legacy registry: expected an object from session name to session")
        }
        let images = Dictionary(
            try await engine.listContainers(all: true).map { ($0.name, $0.image) }, uniquingKeysWith: { first, _ in first })
        var report = LegacyImportReport(added: [], alreadyRegistered: [], invalid: [])
        for key in entries.keys.sorted() {
            let record: SessionRecord
            do {
                record = try LegacyRegistry.record(key: key, entry: entries[key]!, images: images)
            } catch {
                report.invalid.append((key, error.reason))
                continue
            }
            if try registry.insertIfAbsent(record) {
                report.added.append(record.name)
            } else {
                report.alreadyRegistered.append(record.name)
            }
        }
        return report
    }
}
