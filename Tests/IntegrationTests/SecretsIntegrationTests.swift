import Foundation
import Testing

@testable import CCOrcKit

/// A session launched with secrets in its environment and its agent command: none of them may
/// leave the registry (exports, `ccdk inspect`, the engine's labels, `info`, `list`, `health`)
/// unless `--include-secrets` asks for them, and every file ccorc writes is its owner's alone.
@Suite(.serialized) struct SecretsIntegrationTests {
    /// The values that must never be shown.
    static let secrets = ["sk-live-123", "hunter2pass", "s3cr3t", "patvalue42", "authvalue42", "cookievalue42"]

    /// `stat(2)`'s permission bits.
    private func mode(_ path: String) -> mode_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o7777 : nil
    }

    private func expectNoSecret(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in Self.secrets {
            #expect(!text.contains(secret), "\(what) shows \(secret)", sourceLocation: sourceLocation)
        }
    }

    @Test func secretsStayInTheRegistry() async throws {
        try await SessionTestbed.with("sec") { bed in
            var bed = bed
            // `; true` keeps `sh -c` from exec'ing, so that its command line stays in the container.
            bed.agentCommand = "ANTHROPIC_API_KEY=sk-live-123 sh; true"
            let name = bed.prefix + "-s"
            let launch = try await bed.ccorc(
                "launch", name, "--detach", "--agents", "leader,writer", "--env", "DB_PASS=hunter2pass",
                "--env", "DATABASE_URL=postgres://u:s3cr3t@host/db", "--env", "GH_PAT=patvalue42", "--env",
                "AUTH=authvalue42",
                "--env", "SESSION_COOKIE=cookievalue42", "--env", "KEYBOARD_LAYOUT=us", "--env", "MODE=fast")
            #expect(launch.status == 0, "\(launch.stderr)")

            // The registry: private, and it keeps the real values. Its -wal and -shm exist while
            // a connection is open (SQLite removes them when the last one closes), and take the
            // database's mode.
            #expect(mode(bed.home) == 0o700)
            #expect(mode(bed.home + "/registry.db") == 0o600)
            do {
                let registry = try SessionRegistry(home: bed.home)
                let record = try #require(try registry.session(named: SessionName(rawValue: name)!))
                #expect(record.agentCommand == bed.agentCommand && record.environment.contains("DB_PASS=hunter2pass"))
                for file in ["registry.db-wal", "registry.db-shm"] {
                    #expect(mode(bed.home + "/" + file) == 0o600, "\(file)")
                }
            }

            // Everything that shows the session.
            let info = try await bed.ccorc("info", name, "--json")
            #expect(info.status == 0)
            #expect(try JSONValue.parse(info.stdout)["agentCommand"]?.string == "ANTHROPIC_API_KEY=<masked> sh; true")
            expectNoSecret(info.stdout, "info --json")
            await expectNoSecret(try bed.ccorc("info", name).stdout, "info")
            let verbose = try await bed.ccorc("list", "--verbose")
            #expect(verbose.status == 0 && verbose.stdout.contains(name))
            expectNoSecret(verbose.stdout, "list --verbose")
            await expectNoSecret(try bed.ccorc("list", "--json").stdout, "list --json")
            // Health, once the agents run (their processes carry the command line).
            var health = ""
            for _ in 0..<50 {
                health = try await bed.ccorc("health", name, "--json").stdout
                if (try JSONValue.parse(health)["sessions"]?.array?.first?["containers"]?.array ?? []).allSatisfy({
                    $0["agentRunning"] == true
                }) {
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                health.contains("ANTHROPIC_API_KEY=<masked>"),
                "the agent's command line is in the report, masked: \(health)")
            expectNoSecret(health, "health --json")
            await expectNoSecret(try bed.ccorc("health", name).stdout, "health")

            // The engine's labels, and ccdk's views of the containers.
            for role in ["leader", "writer"] {
                let container = "\(name)-\(role)"
                let details = try await bed.engine.inspectContainer(container)
                expectNoSecret(
                    details.labels.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), "labels of \(container)")
                #expect(details.labels[RecoveryLabels.agentCommand] == "ANTHROPIC_API_KEY=<masked> sh; true")
                let volume = try await bed.engine.inspectVolume(container + "-state")
                expectNoSecret(
                    volume.labels.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), "labels of its volume")
                await expectNoSecret(try bed.ccdk("inspect", container, "--json").stdout, "ccdk inspect --json")
                await expectNoSecret(try bed.ccdk("inspect", container).stdout, "ccdk inspect")
            }
            await expectNoSecret(try bed.ccdk("list", "--json").stdout, "ccdk list --json")

            // Exports: masked by default, to stdout, a file and a directory; all 0600.
            let directory = bed.home + "-exports/"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let masked = try await bed.ccorc("export", name, "--output", directory)
            #expect(masked.status == 0, "\(masked.stderr)")
            let maskedFile = directory + name + ".json"
            #expect(mode(maskedFile) == 0o600)
            let maskedText = try String(contentsOfFile: maskedFile, encoding: .utf8)
            expectNoSecret(maskedText, "export")
            #expect(maskedText.contains("postgres://u:<masked>@host/db") && maskedText.contains("KEYBOARD_LAYOUT=us"))
            await expectNoSecret(try bed.ccorc("export", name).stdout, "export to stdout")
            // A file that was there, wider, is replaced by a private one.
            let full = directory + "full.json"
            #expect(
                FileManager.default.createFile(
                    atPath: full, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
            let included = try await bed.ccorc("export", name, "--include-secrets", "--output", full)
            #expect(included.status == 0, "\(included.stderr)")
            #expect(mode(full) == 0o600)
            let fullText = try String(contentsOfFile: full, encoding: .utf8)
            for secret in Self.secrets { #expect(fullText.contains(secret), "--include-secrets keeps \(secret)") }

            // recover rebuilds from the labels, and says what the masked label cost.
            await #expect(try bed.ccorc("stop", name, "--time", "1").status == 0)
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: bed.home + "/registry.db" + suffix)
            }
            let recovered = try await bed.ccorc("recover")
            #expect(recovered.status == 0, "\(recovered.stderr)")
            #expect(recovered.stderr.contains("ANTHROPIC_API_KEY masked"), "\(recovered.stdout)\(recovered.stderr)")
            expectNoSecret(recovered.stdout + recovered.stderr, "recover")

            // An import of the masked export names what it lacks.
            let imported = try await bed.ccorc("import", maskedFile, "--force")
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(
                imported.stderr.contains("DB_PASS")
                    && imported.stderr.contains("ANTHROPIC_API_KEY in the agent command"), "\(imported.stderr)")

            // Recreated from a full export of containers an earlier ccorc labelled in clear, the
            // containers get the secrets they need in their environment and none in their labels.
            await #expect(try bed.ccorc("cleanup", "--remove", name, "--yes").status == 0)
            let labelledInClear = fullText.replacingOccurrences(
                of: "\"ANTHROPIC_API_KEY=<masked> sh; true\"", with: "\"\(bed.agentCommand)\"")
            #expect(labelledInClear != fullText)
            try labelledInClear.write(toFile: full, atomically: true, encoding: .utf8)
            let created = try await bed.ccorc("import", full, "--create")
            #expect(created.status == 0, "\(created.stderr)")
            for role in ["leader", "writer"] {
                let details = try await bed.engine.inspectContainer("\(name)-\(role)")
                expectNoSecret(
                    details.labels.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"),
                    "labels of the imported \(role)")
                #expect(details.environment.contains("DB_PASS=hunter2pass"))
                let volume = try await bed.engine.inspectVolume("\(name)-\(role)-state")
                expectNoSecret(
                    volume.labels.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"),
                    "labels of the imported volume")
            }
            await #expect(try bed.ccorc("cleanup", "--remove", name, "--yes").status == 0)
        }
    }
}
