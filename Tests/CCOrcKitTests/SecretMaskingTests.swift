import Foundation
import Testing

@testable import CCOrcKit

private let masked = SecretMasking.marker

/// The masking rule (`SecretMasking`), by table, and where it is applied: labels, the JSON
/// shapes, recover, export and import.
@Suite struct SecretMaskingTests {
    /// An environment entry and what every output shows of it.
    struct Entry: CustomTestStringConvertible, Sendable {
        var entry: String
        var shown: String
        var testDescription: String { entry }
    }

    /// Names and values, masked and not; the near-misses are decided here.
    static let environment: [Entry] = [
        // By name: a word of the name.
        Entry(entry: "API_TOKEN=t0k3n", shown: "API_TOKEN=\(masked)"),
        Entry(entry: "ssh_key=x", shown: "ssh_key=\(masked)"),
        Entry(entry: "DB_PASSWORD=x", shown: "DB_PASSWORD=\(masked)"),
        Entry(entry: "ClientSecret=x", shown: "ClientSecret=\(masked)"),
        Entry(entry: "DB_PASS=hunter2", shown: "DB_PASS=\(masked)"),
        Entry(entry: "GH_PAT=abc123", shown: "GH_PAT=\(masked)"),
        Entry(entry: "AUTH=Basic dTpw", shown: "AUTH=\(masked)"),
        Entry(entry: "BASIC_AUTH=u:p", shown: "BASIC_AUTH=\(masked)"),
        Entry(entry: "AUTHORIZATION=Bearer abc", shown: "AUTHORIZATION=\(masked)"),
        Entry(entry: "MYSQL_PWD=pw", shown: "MYSQL_PWD=\(masked)"),
        Entry(entry: "AWS_CREDENTIALS=abc", shown: "AWS_CREDENTIALS=\(masked)"),
        Entry(entry: "SESSION_COOKIE=abc", shown: "SESSION_COOKIE=\(masked)"),
        Entry(entry: "SESSION_ID=abc", shown: "SESSION_ID=\(masked)"),
        Entry(entry: "API_KEY=abc", shown: "API_KEY=\(masked)"),
        Entry(entry: "KEY=abc", shown: "KEY=\(masked)"),
        Entry(entry: "SSH_KEY_FILE=/home/agent/.ssh/id_ed25519", shown: "SSH_KEY_FILE=\(masked)"),
        Entry(entry: "PGPASSWORD=x", shown: "PGPASSWORD=\(masked)"),
        Entry(entry: "GITHUBTOKEN=x", shown: "GITHUBTOKEN=\(masked)"),
        Entry(entry: "apiKey=x", shown: "apiKey=\(masked)"),
        Entry(entry: "OPENAI_APIKEY=x", shown: "OPENAI_APIKEY=\(masked)"),
        Entry(entry: "A_KEY=v=w", shown: "A_KEY=\(masked)"),
        // Near-misses: a short word must be the whole word; a long one may end a word.
        Entry(entry: "KEYBOARD_LAYOUT=us", shown: "KEYBOARD_LAYOUT=us"),
        Entry(entry: "MONKEY=banana", shown: "MONKEY=banana"),
        Entry(entry: "PASSAGE=north", shown: "PASSAGE=north"),
        Entry(entry: "COMPASS=north", shown: "COMPASS=north"),
        Entry(entry: "GIT_AUTHOR_NAME=Ada", shown: "GIT_AUTHOR_NAME=Ada"),
        Entry(entry: "TOKENIZERS_PARALLELISM=false", shown: "TOKENIZERS_PARALLELISM=false"),
        Entry(entry: "PAT=Pat", shown: "PAT=Pat"),
        Entry(entry: "PATH=/usr/bin:/bin", shown: "PATH=/usr/bin:/bin"),
        Entry(entry: "HOME=/home/agent", shown: "HOME=/home/agent"),
        Entry(entry: "MODE=secretive-value", shown: "MODE=secretive-value"),
        // ccorc's own variables and the shell's directories.
        Entry(entry: "CCORC_SESSION=demo", shown: "CCORC_SESSION=demo"),
        Entry(entry: "CCORC_ROLE=leader", shown: "CCORC_ROLE=leader"),
        Entry(entry: "PWD=/home/agent", shown: "PWD=/home/agent"),
        Entry(entry: "OLDPWD=/tmp", shown: "OLDPWD=/tmp"),
        // By value: only the URL's password, wherever it is.
        Entry(entry: "DATABASE_URL=postgres://u:s3cr3t@host/db", shown: "DATABASE_URL=postgres://u:\(masked)@host/db"),
        Entry(entry: "REDIS_URL=redis://:pw@cache:6379/0", shown: "REDIS_URL=redis://:\(masked)@cache:6379/0"),
        Entry(
            entry: "MIRRORS=http://a:b@one/ http://c:d@two/",
            shown: "MIRRORS=http://a:\(masked)@one/ http://c:\(masked)@two/"),
        Entry(entry: "HOMEPAGE=https://example.com/a@b:c", shown: "HOMEPAGE=https://example.com/a@b:c"),
        Entry(entry: "PROXY=http://user@proxy:8080", shown: "PROXY=http://user@proxy:8080"),
        // By value: well-known key formats, as whole words.
        Entry(entry: "LLM=sk-live-123", shown: "LLM=\(masked)"),
        Entry(entry: "HEADER=Bearer sk-ant-api03-abcdef", shown: "HEADER=Bearer \(masked)"),
        Entry(entry: "GH=ghp_abcdefghij0123456789", shown: "GH=\(masked)"),
        Entry(entry: "GH2=github_pat_11ABCDEFG0123456789", shown: "GH2=\(masked)"),
        Entry(entry: "SLACK=xoxb-1234-5678-abc", shown: "SLACK=\(masked)"),
        Entry(entry: "AWS_ID=AKIAIOSFODNN7EXAMPLE", shown: "AWS_ID=\(masked)"),
        Entry(
            entry: "TLS=-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\nrest",
            shown: "TLS=\(masked)\nrest"),
        Entry(entry: "NOTE=risk-assessment-plan", shown: "NOTE=risk-assessment-plan"),
        Entry(entry: "SHORT=sk-1", shown: "SHORT=sk-1"),
        Entry(entry: "GREETING=hello", shown: "GREETING=hello"),
    ]

    @Test(arguments: environment) func environmentEntries(_ case: Entry) {
        #expect(SecretMasking.maskEntry(`case`.entry) == `case`.shown)
        // Masking what is masked changes nothing.
        #expect(SecretMasking.maskEntry(`case`.shown) == `case`.shown)
    }

    /// Command lines (the agent command, cmd and entrypoint, `/proc/PID/cmdline`) and what is shown.
    static let commands: [(String, String)] = [
        ("ANTHROPIC_API_KEY=sk-live-123 claude", "ANTHROPIC_API_KEY=\(masked) claude"),
        (
            "env DB_PASS='two words' GIT_AUTHOR_NAME=Ada claude --resume",
            "env DB_PASS=\(masked) GIT_AUTHOR_NAME=Ada claude --resume"
        ),
        ("export GH_PAT=\"a b\"; claude", "export GH_PAT=\(masked); claude"),
        ("A=1 B_SECRET=2 C=3 claude", "A=1 B_SECRET=\(masked) C=3 claude"),
        ("claude --api-key=xyz123 --model opus", "claude --api-key=\(masked) --model opus"),
        ("sh -c 'TOKEN=abc claude'", "sh -c 'TOKEN=\(masked) claude'"),
        ("AUTH=x&&claude", "AUTH=\(masked)&&claude"),
        ("psql postgres://u:s3cr3t@db/x", "psql postgres://u:\(masked)@db/x"),
        ("claude --key-file ~/.k sk-abcdefghijk", "claude --key-file ~/.k \(masked)"),
        ("KEYBOARD_LAYOUT=us claude", "KEYBOARD_LAYOUT=us claude"),
        ("claude", "claude"),
        ("x=1 == y", "x=1 == y"),
    ]

    @Test func agentCommands() {
        for (command, shown) in Self.commands {
            #expect(SecretMasking.maskCommand(command) == shown, "\(command)")
            #expect(SecretMasking.maskCommand(shown) == shown, "idempotent: \(shown)")
        }
        #expect(
            SecretMasking.maskArguments(["sh", "-c", "ANTHROPIC_API_KEY=sk-live-123 claude"]) == [
                "sh", "-c", "ANTHROPIC_API_KEY=\(masked) claude",
            ])
        #expect(
            SecretMasking.maskArguments(["run", "--env=DB_PASS=x", "-e", "MODE=1"]) == [
                "run", "--env=DB_PASS=\(masked)", "-e", "MODE=1",
            ])
    }

    @Test func maskedNamesAreReportedByName() {
        #expect(
            SecretMasking.maskedNames(inCommand: "ANTHROPIC_API_KEY=\(masked) MODE=1 claude") == ["ANTHROPIC_API_KEY"])
        #expect(SecretMasking.maskedNames(inCommand: "psql postgres://u:\(masked)@db/x") == ["a value"])
        #expect(SecretMasking.maskedNames(inCommand: "claude") == [])
        #expect(
            SecretMasking.maskedNames(inEnvironment: ["A=1", "DB_PASS=\(masked)", "U=postgres://u:\(masked)@h"]) == [
                "DB_PASS", "U",
            ])
    }

    // MARK: - Where the rule applies

    private static func record(agentCommand: String = "ANTHROPIC_API_KEY=sk-live-123 claude") -> SessionRecord {
        SessionRecord(
            name: SessionName(rawValue: "mask")!, tmuxSession: "mask", image: "ccorc-busybox:latest",
            agentCommand: agentCommand,
            environment: ["DB_PASS=hunter2", "MODE=fast"], config: ["stateDirectory": "/home/agent/.claude"],
            agents: [
                AgentRecord(
                    role: AgentRole(rawValue: "leader")!, containerName: "mask-leader",
                    stateVolume: "mask-leader-state", position: 0)
            ])
    }

    @Test func labelsCarryTheAgentCommandMasked() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccorc-mask-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let manager = SessionManager(
            engine: try EngineClient(host: EngineHost(dockerHost: "unix:///nonexistent/ccorc-test.sock")),
            tmux: TmuxControlClient(server: .named("ccorc-mask-unused")), registry: try SessionRegistry(home: home),
            shellProgram: "ccdk")
        let record = Self.record()
        let spec = manager.containerSpec(record, record.agents[0], mounts: [])
        #expect(spec.labels[RecoveryLabels.agentCommand] == "ANTHROPIC_API_KEY=\(masked) claude")
        #expect(!spec.labels.values.contains { $0.contains("sk-live-123") || $0.contains("hunter2") })
        // The container's environment is the real one: the agent needs it.
        #expect(spec.environment.contains("DB_PASS=hunter2"))
    }

    @Test func recoverSaysWhatTheMaskedLabelCost() throws {
        let labels = [
            OwnershipLabels.session: "mask", OwnershipLabels.role: "leader",
            OwnershipLabels.schema: SessionManager.labelSchema,
            RecoveryLabels.agentCommand: "ANTHROPIC_API_KEY=\(masked) claude",
        ]
        func volume(_ labels: [String: String]) throws -> Volume {
            try Volume(json: [
                "Name": "mask-leader-state", "Driver": "local", "Labels": .object(labels.mapValues { .string($0) }),
            ])
        }
        let (record, notes) = SessionManager.rebuild(
            SessionName(rawValue: "mask")!, containers: [], volumes: [try volume(labels)], details: nil)
        #expect(record.agentCommand == "ANTHROPIC_API_KEY=\(masked) claude")
        #expect(
            notes.contains { $0.contains("ANTHROPIC_API_KEY masked") && $0.contains("ccorc import --force") },
            "\(notes)")
        let (plain, plainNotes) = SessionManager.rebuild(
            SessionName(rawValue: "mask")!, containers: [],
            volumes: [try volume(labels.merging([RecoveryLabels.agentCommand: "claude"]) { $1 })],
            details: nil)
        #expect(plain.agentCommand == "claude" && !plainNotes.contains { $0.contains("masked") })
    }

    @Test func sessionJSONShowsTheAgentCommandMasked() {
        let status = SessionStatus(record: Self.record(), agents: [], tmux: nil)
        #expect(status.jsonValue["agentCommand"]?.string == "ANTHROPIC_API_KEY=\(masked) claude")
        let process = ContainerProcess(
            pid: 7, parentPID: 1, commandLine: ["sh", "-c", "ANTHROPIC_API_KEY=sk-live-123 claude"])
        #expect(process.jsonValue["command"]?.stringArray == ["sh", "-c", "ANTHROPIC_API_KEY=\(masked) claude"])
    }

    @Test func importNamesWhatWasMasked() throws {
        var record = Self.record(agentCommand: "ANTHROPIC_API_KEY=\(masked) claude")
        record.environment = ["DB_PASS=\(masked)", "DATABASE_URL=postgres://u:\(masked)@h/db", "MODE=fast"]
        let registry: JSONValue = [
            "name": "mask", "tmuxSession": "mask", "createdAt": 1, "updatedAt": 1, "image": "ccorc-busybox:latest",
            "agentCommand": .string(record.agentCommand), "mounts": [],
            "environment": JSONValue(strings: record.environment),
            "config": [:], "status": "ready",
            "agents": [
                ["role": "leader", "containerName": "mask-leader", "stateVolume": "mask-leader-state", "position": 0]
            ],
        ]
        let file = SessionExportFormat.document(
            [["name": "mask", "registry": registry, "containers": [], "volumes": []]], includeSecrets: false)
        let sessions = try SessionManager.parseExport(Array(file.serialized().utf8), source: "mask.json")
        #expect(sessions[0].maskedVariables[""] == ["DB_PASS", "DATABASE_URL"])
        #expect(sessions[0].maskedInAgentCommand == ["ANTHROPIC_API_KEY"])
    }
}
