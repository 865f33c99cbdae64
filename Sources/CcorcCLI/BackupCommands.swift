import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write sessions (registry entry, containers' config, volumes, live state) as JSON.",
        discussion: """
            Without --output the export goes to stdout. PATH may be a file (one document with every \
            session) or a directory, existing or ending in '/' (one NAME.json per session); files are \
            created with mode 0600. Secrets are masked unless --include-secrets: the values of variables \
            named like *TOKEN*, *KEY*, *SECRET*, *PASS*, *PWD*, *CREDENTIAL*, *AUTH*, *_PAT, *COOKIE* or \
            *SESSION* (by whole words; see the README), URL passwords, well-known key formats and PEM \
            blocks, in the environment and in inline NAME=value assignments of the agent command and \
            the containers' cmd and entrypoint.
            """)
    @Argument(help: "Session names.") var names: [String] = []
    @Flag(help: "Export every registered session.") var all = false
    @Option(name: .shortAndLong, help: "A file, or a directory for one NAME.json per session.") var output: String?
    @Flag(help: "Keep secret values (environment, agent command, cmd and entrypoint) in clear.") var includeSecrets =
        false

    func run() async throws {
        guard all != !names.isEmpty else {
            throw ValidationError(
                all ? "name sessions or pass --all, not both" : "name sessions to export, or pass --all")
        }
        let manager = try await Environment.manager()
        let (sessions, damaged) = try await manager.exportWithDamage(
            all ? nil : try parseNames(names), includeSecrets: includeSecrets)
        warnAboutDamagedRows(damaged)
        guard let output else {
            print(SessionExportFormat.document(sessions, includeSecrets: includeSecrets).serialized(indent: 2))
            return
        }
        if output.hasSuffix("/") || directoryExists(output) {
            do {
                try PrivateFiles.createDirectory(output)
            } catch {
                throw CommandLineFailure(error.description)
            }
            for session in sessions {
                let name = session["name"]?.string ?? "session"
                let path = Path.join(output, name + ".json")
                try write(SessionExportFormat.document([session], includeSecrets: includeSecrets), to: path)
                print("exported \(name) to \(path)")
            }
        } else {
            try write(SessionExportFormat.document(sessions, includeSecrets: includeSecrets), to: output)
            print("exported \(sessions.count) session(s) to \(output)")
        }
    }

    /// Writes one export file, created with mode 0600 (it may hold secrets, or the names of
    /// everything the sessions run).
    private func write(_ document: JSONValue, to path: String) throws {
        do {
            try PrivateFiles.write(Array((document.serialized(indent: 2) + "\n").utf8), to: path)
        } catch {
            throw CommandLineFailure(error.description)
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register sessions from export files, or from the earlier Python tool's registry (--legacy).",
        discussion: """
            Every file is read and checked before anything changes. An existing session name is refused \
            unless --force (which replaces its registry entry only). --create also creates missing \
            containers and volumes exactly as exported (volume contents are not part of an export). \
            --legacy reads the earlier Python tool's registry: FILE, or those of \
            ~/.claude-orc/team_contexts.json and ~/.claude-orc/sessions.json that exist (either format, \
            told apart by content). It registers each valid session, reports the rest, and creates or \
            labels nothing on the engine; running it again adds nothing. A context with no container left \
            (the tool ran them with --rm) is registered with ccorc's container and volume names, made from \
            --image on --network: create them with `ccorc cleanup --fix-broken NAME`, then `ccorc resume NAME`.
            """)
    @Argument(help: "Export files (with --legacy: at most one legacy registry file).") var files: [String] = []
    @Flag(help: "Create missing containers and volumes as exported.") var create = false
    @Flag(help: "Replace the registry entries of existing names.") var force = false
    @Flag(help: "Read the earlier Python tool's team_contexts.json or sessions.json.") var legacy = false
    @Option(
        help: "With --legacy: the image of contexts without containers (default: $CCORC_IMAGE or ccorc-agent:latest).")
    var image: String?
    @Option(help: "With --legacy: their network mode (default: $CCORC_NETWORK, else the engine's default).")
    var network: String?
    @Flag(
        help:
            "Print JSON: {\"imported\": [{\"name\", \"replaced\", \"createdContainers\", \"createdVolumes\", \"warnings\"}]}."
    ) var json = false

    func run() async throws {
        if legacy {
            guard files.count <= 1, !create, !force, !json else {
                throw ValidationError("--legacy takes at most one FILE and no --create, --force or --json")
            }
            let paths: [String]
            do { paths = try files.first.map { [$0] } ?? LegacyRegistry.defaultPaths() } catch {
                throw CommandLineFailure("\(error)")
            }
            try await importLegacy(paths)
            return
        }
        guard image == nil, network == nil else { throw ValidationError("--image and --network go with --legacy") }
        guard !files.isEmpty else { throw ValidationError("name export files to import (or pass --legacy)") }
        var sessions: [ExportedSession] = []
        for file in files {
            let bytes: [UInt8]
            do { bytes = try readFileBytes(file) } catch { throw CommandLineFailure("\(error)") }
            do {
                sessions += try SessionManager.parseExport(bytes, source: file)
            } catch {
                throw CommandLineFailure(error.description)
            }
        }
        let manager = try await Environment.manager()
        let imported = try await manager.importSessions(sessions, create: create, force: force)
        if json {
            printJSON(ImportedSession.jsonValue(imported))
            return
        }
        for session in imported {
            var line = (session.replaced ? "replaced " : "imported ") + session.name.rawValue
            if !session.createdContainers.isEmpty || !session.createdVolumes.isEmpty {
                line +=
                    " (created \(session.createdContainers.count) container(s), \(session.createdVolumes.count) volume(s); start it with `ccorc resume \(session.name)`)"
            }
            print(line)
            for warning in session.warnings { printError("ccorc: warning: \(session.name): \(warning)") }
        }
    }

    private func importLegacy(_ paths: [String]) async throws {
        let environment = Environment.values
        var options = LegacyImportOptions()
        options.image = image ?? environment["CCORC_IMAGE"] ?? options.image
        options.agentCommand = environment["CCORC_AGENT_COMMAND"] ?? options.agentCommand
        options.networkMode = network ?? environment["CCORC_NETWORK"]
        let report: LegacyImportReport
        do {
            report = try await Environment.manager().importLegacy(paths: paths, options: options)
        } catch let error as LegacyImportError {
            throw CommandLineFailure(error.description)
        }
        let withoutContainers = Set(report.withoutContainers)
        for name in report.added {
            if withoutContainers.contains(name) {
                print(
                    "registered \(name) without containers (the earlier tool removed them when it stopped): create them with `ccorc cleanup --fix-broken \(name)`, then `ccorc resume \(name)`"
                )
            } else {
                print("registered \(name)")
            }
        }
        for name in report.alreadyRegistered { print("already registered \(name)") }
        for (key, reason) in report.invalid {
            printError("ccorc: skipped legacy session \(key.debugDescription): it \(reason)")
        }
        print(
            "\(report.added.count) added, \(report.alreadyRegistered.count) already registered, \(report.invalid.count) skipped"
        )
    }
}

struct Recover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild missing registry entries from the labels of ccorc's containers and volumes.",
        discussion:
            "Existing entries are never overwritten. Costs two engine list calls and one inspect per session rebuilt.")
    @Flag(help: "Print what would be added without adding it.") var dryRun = false
    @Flag(
        help:
            "Print JSON: {\"sessions\": [{\"name\", \"added\", \"image\", \"tmuxSession\", \"agents\", \"notes\"}], \"alreadyRegistered\", \"skipped\"}."
    ) var json = false
    @Option(
        help:
            "Comma-separated docker contexts to search besides the current engine and those sessions live on (default: $CCORC_ENGINES)."
    )
    var engines: String?

    func run() async throws {
        let manager: SessionManager
        do {
            manager = try await Environment.manager()
        } catch let error as RegistryError where error.code == .corrupt && error.movedTo != nil {
            // The damaged file has just been moved aside; the next open starts an empty registry.
            printError("ccorc: \(error.message)")
            manager = try await Environment.manager()
        }
        let extra = engines.map(Environment.engineList) ?? Environment.defaultEngines()
        let report = try await manager.recoverRegistry(dryRun: dryRun, engines: extra)
        if json {
            printJSON(report.jsonValue)
            try Environment.failForUnreachable(report.unreachable)
            return
        }
        warnAboutDamagedRows(report.damaged)
        for session in report.sessions {
            let record = session.record
            let verb = dryRun ? "would add" : session.added ? "added" : "left"
            print(
                "\(verb) \(record.name) (\(record.agents.count) agent(s): \(record.agents.map(\.role.rawValue).joined(separator: ", ")); image \(record.image))"
            )
            for note in session.notes { printError("ccorc: \(record.name): \(note)") }
        }
        for (label, reason) in report.skipped { printError("ccorc: skipped \(label.debugDescription): \(reason)") }
        if report.sessions.isEmpty {
            print("nothing to recover (\(report.alreadyRegistered.count) labelled session(s) already registered)")
        }
        try Environment.failForUnreachable(report.unreachable)
    }
}

struct Forget: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drop registry entries, leaving their containers, volumes and tmux sessions alone.",
        discussion: """
            For a damaged entry that other commands skip, or one whose resources are already gone. \
            NAME is matched as stored, so an entry whose name is not a valid session name can go too. \
            A name that is not registered changes nothing, not even for the names given with it. \
            What is left behind shows up in `ccorc list --all` and `ccorc cleanup --orphans`, and \
            `ccorc recover` rebuilds the entry from its containers' labels.
            """)
    @Argument(help: "Registry entry names.") var names: [String] = []

    func run() throws {
        guard !names.isEmpty else { throw ValidationError("name the registry entries to forget") }
        // Only the registry: no engine or tmux connection, so this works when those do not answer.
        let registry = try Environment.registry()
        try registry.forget(names)
        for name in names { print("forgot \(name)") }
    }
}
