import Foundation
import Testing

@testable import CCOrcKit

/// Whole `ccdk` command lines against the real engine.
@Suite(.serialized) struct CcdkCLITests {
    let environment = ["CCORC_NETWORK": "none", "CCORC_IMAGE": TestEngine.image]

    @Test func runListLimitUpdateStopRemove() async throws {
        try await TestEngine.isolated("cli") { engine, prefix in
            let name = prefix + "-dev"
            let run = try await Products.run(
                "ccdk",
                ["run", "-d", name, "--memory", "64m", "--cpus", "0.5", "--", "sh", "-c", "echo ready; sleep 1000"],
                environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout == name + "\n")

            let list = try await Products.run("ccdk", ["list", "--json"])
            let entries = try JSONValue.parse(list.stdout).array ?? []
            let entry = try #require(entries.first { $0["name"]?.string == name })
            #expect(entry["state"]?.string == "running")

            let table = try await Products.run("ccdk", ["ps"])
            #expect(table.stdout.hasPrefix("NAME"))
            #expect(table.stdout.contains(name))

            let stats = try await JSONValue.parse(try Products.run("ccdk", ["stats", "-i", name, "--json"]).stdout)
            #expect(stats.array?.first?["memoryLimit"]?.int == 67_108_864)
            #expect(stats.array?.first?["nanoCpus"]?.int == 500_000_000)
            #expect(stats.array?.first?["source"]?.string?.hasPrefix("cgroup") == true)

            await #expect(try Products.run("ccdk", ["update", name, "--memory", "96m", "--cpus", "1"]).status == 0)
            let status = try await JSONValue.parse(try Products.run("ccdk", ["status", name, "--json"]).stdout)
            #expect(status["memory"]?.int == 100_663_296)
            #expect(status["nanoCpus"]?.int == 1_000_000_000)

            // The shell prints once it runs: wait for it, then compare exactly.
            var log = ""
            for _ in 0..<100 where log.isEmpty {
                log = try await Products.run("ccdk", ["logs", "-i", name]).stdout
                if log.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(log == "ready\r\n", "a TTY container logs CRLF")

            await #expect(try Products.run("ccdk", ["stop", "-t", "1", name]).status == 0)
            #expect(try await engine.inspectContainer(name).state == .exited)
            await #expect(try Products.run("ccdk", ["start", "-i", name]).status == 0)
            #expect(try await engine.inspectContainer(name).state == .running)

            let removed = try await Products.run("ccdk", ["rm", "-f", prefix + "-*"])
            #expect(removed.status == 0)
            #expect(removed.stdout == name + "\n")
            await #expect {
                _ = try await engine.inspectContainer(name)
            } throws: { ($0 as? EngineError)?.code == .notFound }
        }
    }

    @Test func globRemovalSparesUnmanagedContainers() async throws {
        try await TestEngine.isolated("spare") { engine, prefix in
            var foreign = TestEngine.spec(prefix + "-foreign")
            foreign.labels = [:]
            _ = try await engine.createContainer(foreign)
            _ = try await engine.createContainer(TestEngine.spec(prefix + "-mine"))
            let result = try await Products.run("ccdk", ["rm", prefix + "-*"])
            #expect(result.status == 0)
            #expect(result.stdout == prefix + "-mine\n")
            #expect(try await engine.inspectContainer(prefix + "-foreign").name == prefix + "-foreign")
        }
    }

    @Test(arguments: [".", ".."])
    func aDotNameIsNoSuchContainer(_ name: String) async throws {
        _ = try await TestEngine.client()
        let status = try await Products.run("ccdk", ["status", name])
        #expect(status.status == 1)
        #expect(status.stderr == "ccdk: No such container: \(name)\n")
        for command in [["rm", name], ["stop", name]] {
            let result = try await Products.run("ccdk", command)
            #expect(result.status == 1, "\(command)")
            #expect(result.stderr.hasSuffix("No such container: \(name)\n"), "\(command): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
        }
    }

    @Test func badInputGivesOneLineAndANonZeroExit() async throws {
        try await TestEngine.isolated("bad") { engine, prefix in
            let missing = try await Products.run("ccdk", ["status", prefix + "-nope"])
            #expect(missing.status == 1)
            #expect(missing.stderr == "ccdk: No such container: \(prefix)-nope\n")

            let json = try await Products.run("ccdk", ["status", prefix + "-nope", "--json"])
            #expect(json.status == 1)
            #expect(try JSONValue.parse(json.stdout)["error"]?["code"]?.string == "notFound")

            let badMemory = try await Products.run(
                "ccdk", ["run", "-d", prefix + "-x", "--memory", "4x"], environment: environment)
            #expect(badMemory.status == 1)
            #expect(badMemory.stderr.contains("invalid memory size \"4x\""))
            let badCPUs = try await Products.run(
                "ccdk", ["run", "-d", prefix + "-x", "--cpus", "-1"], environment: environment)
            #expect(badCPUs.status != 0)

            let noImage = try await Products.run(
                "ccdk", ["run", "-d", prefix + "-x", "--image", "ccorc-none:0"], environment: environment)
            #expect(noImage.status == 1)
            #expect(noImage.stderr.contains("image ccorc-none:0 not found"))
            #expect(
                try await engine.listContainers(all: true, filters: ["name": ["^/" + prefix]]).isEmpty,
                "nothing half-created")

            let unreachable = try await Products.run(
                "ccdk", ["list"], environment: ["DOCKER_HOST": "unix:///tmp/ccorc-nothing-here.sock"])
            #expect(unreachable.status == 1)
            #expect(unreachable.stderr.hasPrefix("ccdk: cannot reach the Docker engine"))
            #expect(unreachable.stderr.split(separator: "\n").count == 1)

            // tcp:// is reached (nothing listens on port 1); ssh:// is not supported.
            let tcp = try await Products.run("ccdk", ["list"], environment: ["DOCKER_HOST": "tcp://127.0.0.1:1"])
            #expect(tcp.status == 1)
            #expect(tcp.stderr.hasPrefix("ccdk: cannot reach the Docker engine: nothing answers on tcp://127.0.0.1:1"))
            #expect(tcp.stderr.split(separator: "\n").count == 1)
            let ssh = try await Products.run("ccdk", ["list"], environment: ["DOCKER_HOST": "ssh://me@far.example"])
            #expect(ssh.status == 1)
            #expect(ssh.stderr.contains("not supported") && ssh.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func wordsAfterTheTerminatorReachTheCommandUntouched() async throws {
        try await TestEngine.isolated("passthrough") { engine, prefix in
            let name = prefix + "-box"
            _ = try await engine.createContainer(TestEngine.spec(name))
            try await engine.startContainer(name)
            // `--help` and `-h` after `--` belong to the command in the container, not to ccdk.
            let cases: [([String], String)] = [
                (["exec", name, "--", "sh", "-c", "echo --help"], "--help\n"),
                (["exec", name, "--", "echo", "-h"], "-h\n"),
                (["shell", name, "--", "sh", "-c", "echo --help"], "--help\n"),
                (["shell", "-i", name, "--", "echo", "--help"], "--help\n"),
                (["shell", name, "-u", "1234", "--", "sh", "-c", "id -u; echo -h"], "1234\n-h\n"),
                (["shell", name, "echo", "no", "terminator"], "no terminator\n"),
            ]
            for (arguments, expected) in cases {
                let result = try await Products.run("ccdk", arguments)
                #expect(result.status == 0, "ccdk \(arguments): \(result.stderr)")
                #expect(result.stdout == expected, "ccdk \(arguments)")
            }
        }
    }

    @Test func importsARootfsDirectory() async throws {
        try await TestEngine.isolated("import") { engine, prefix in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix).path
            try FileManager.default.createDirectory(atPath: directory + "/etc", withIntermediateDirectories: true)
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: directory + "/etc/motd"))
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let tag = "\(prefix):v1"
            let result = try await Products.run("ccdk", ["image", "import", directory, "-t", tag])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await engine.imageExists(tag))
            try await engine.removeImage(tag)
        }
    }
}

@Suite(.serialized) struct ImageBuildTests {
    @Test func buildsAFromScratchContextOffline() async throws {
        try await TestEngine.isolated("build") { engine, prefix in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + "-context").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Data(try BusyboxImage.rootfsArchive()).write(to: URL(fileURLWithPath: directory + "/rootfs.tar"))
            try Data("FROM scratch\nADD rootfs.tar /\nENV PATH=/bin\nCMD [\"sh\"]\n".utf8).write(
                to: URL(fileURLWithPath: directory + "/Dockerfile"))
            let tag = "\(prefix):built"
            let build = try await Products.run("ccdk", ["image", "build", directory, "-t", tag])
            #expect(build.status == 0, "\(build.stderr)")
            #expect(build.stdout.contains("Step 2/4 : ADD rootfs.tar /"), "progress is shown")
            #expect(try await engine.imageExists(tag))
            let run = try await Products.run(
                "ccdk",
                ["run", prefix + "-built", "--image", tag, "--network", "none", "--", "sh", "-c", "echo built-ok"])
            #expect(run.stdout == "built-ok\n")

            try Data("FROM scratch\nRUN /bin/false\n".utf8).write(to: URL(fileURLWithPath: directory + "/Broken"))
            let broken = try await Products.run(
                "ccdk", ["image", "build", directory, "-t", tag + "-broken", "-f", "Broken"])
            #expect(broken.status == 1)
            #expect(broken.stderr.hasPrefix("ccdk: build failed"))
            try await engine.removeImage(tag, force: true)
        }
    }
}
