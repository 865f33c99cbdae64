import FoundationEssentials

extension SessionManager {
    /// Registers the sessions of the Python tool's registry files (either format, told apart by
    /// their content) whose entries are valid, and reports the rest. Nothing on the engine is
    /// created or labelled: containers the tool made are found by name or by its labels, so
    /// `list` shows their true states; a context with none left is registered for
    /// `cleanup --fix-broken` to create them (see `LegacyRegistry.record`). Running it again
    /// adds nothing; a name in two files is registered from the first.
    ///
    /// - Throws: `LegacyImportError` when a file is missing or not a JSON object (nothing is
    ///   registered then), `RegistryError` when the registry fails.
    public func importLegacy(
        paths: [String], options: LegacyImportOptions = LegacyImportOptions()
    ) async throws -> LegacyImportReport {
        var files: [(entries: [String: JSONValue], format: LegacyRegistry.Format)] = []
        for path in paths {
            let bytes: [UInt8]
            do { bytes = try readFileBytes(path) } catch { throw LegacyImportError(description: "\(error)") }
            let document: JSONValue
            do {
                document = try JSONValue.parse(bytes)
            } catch {
                throw LegacyImportError(description: "\(path) is not a legacy registry: \(error)")
            }
            guard let entries = document.object else {
                throw LegacyImportError(
                    description: "\(path) is not a legacy registry: expected an object from session name to session")
            }
            files.append((entries, LegacyRegistry.Format.detect(entries)))
        }
        var recreateImage: Result<AgentImage, SessionError>?
        if files.contains(where: { $0.format == .teamContexts }) {
            do {
                recreateImage = .success(try await agentImage(options.image, stateDirectory: nil, mounts: []))
            } catch let error as SessionError where error.code == .imageMissing {
                recreateImage = .failure(error)
            }
        }
        let view = LegacyRegistry.EngineView(
            containers: try await engine.listContainers(all: true), recreateImage: recreateImage,
            networkMode: options.networkMode, agentCommand: options.agentCommand)
        let rows = try registry.rows()
        // Checked first, so that a second run reports them as registered whatever else changed
        // (the image a context without containers needs, say).
        let registered = Set(rows.sessions.map(\.name.rawValue) + rows.damaged.map(\.key))
        var report = LegacyImportReport(added: [], alreadyRegistered: [], invalid: [])
        for file in files {
            for key in file.entries.keys.sorted() {
                let rawName = LegacyRegistry.sessionName(key: key, entry: file.entries[key]!, format: file.format)
                if registered.contains(rawName), let name = SessionName(rawValue: rawName) {
                    report.alreadyRegistered.append(name)
                    continue
                }
                let record: SessionRecord
                do {
                    record = try LegacyRegistry.record(
                        key: key, entry: file.entries[key]!, format: file.format, engine: view)
                } catch {
                    report.invalid.append((key, error.reason))
                    continue
                }
                if try registry.insertIfAbsent(record) {
                    report.added.append(record.name)
                    if record.config["origin"]?.string == LegacyRegistry.recreatedOrigin {
                        report.withoutContainers.append(record.name)
                    }
                } else {
                    report.alreadyRegistered.append(record.name)
                }
            }
        }
        return report
    }
}
