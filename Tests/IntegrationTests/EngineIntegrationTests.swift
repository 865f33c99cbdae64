import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

@Suite(.serialized) struct EngineIntegrationTests {
    @Test func negotiatesAnAPIVersionTheEngineSpeaks() async throws {
        let engine = try await TestEngine.client()
        let version = try await engine.version()
        let chosen = try await engine.apiVersion()
        #expect(!APIVersion.isOlder(version.apiVersion, than: chosen))
        #expect(!APIVersion.isOlder(EngineClient.maximumAPIVersion, than: chosen))
        // /info's image count is every image, intermediate ones too: the length of
        // /images/json?all=1, read on both sides of it so that a suite importing meanwhile shows.
        func allImages() async throws -> Int {
            try await engine.json(.get, "/images/json", query: [("all", "1")]).array?.count ?? -1
        }
        var settled = false
        for _ in 0..<10 where !settled {
            let before = try await allImages()
            let info = try await engine.info()
            let after = try await allImages()
            guard before == after else { continue }
            #expect(info.images == before)
            #expect(info.raw["Images"]?.int == Int64(before))
            settled = true
        }
        #expect(settled, "the engine's images kept changing")
        try engine.pingBlocking()
    }

    @Test func limitsSetAtCreateAndLiveLandInTheCgroup() async throws {
        try await TestEngine.isolated("limits") { engine, prefix in
            var spec = TestEngine.spec(prefix + "-a")
            spec.memory = try ResourceLimits.parseMemory("64m")
            spec.nanoCPUs = try ResourceLimits.parseCPUs("0.5")
            spec.environment = ["GREETING=hello world"]
            spec.workingDirectory = "/tmp"
            let id = try await engine.createContainer(spec)
            #expect(try await engine.startContainer(id))

            let details = try await engine.inspectContainer(id)
            #expect(details.state == .running && details.pid > 0)
            #expect(details.memory == 67_108_864 && details.nanoCPUs == 500_000_000)
            #expect(details.networkMode == "none")
            #expect(details.environment.contains("GREETING=hello world"))
            #expect(details.workingDirectory == "/tmp")

            let reader = CgroupReader()
            let location = try #require(reader.locate(containerID: id, pid: details.pid))
            let atCreate = try reader.usage(at: location, includePids: true)
            #expect(atCreate.memoryLimit == 67_108_864)
            #expect(atCreate.cpuQuotaNanoCPUs == 500_000_000)
            #expect(atCreate.pids.contains(Int32(details.pid)))
            #expect(atCreate.memoryUsage > 0)
            // The kernel's own file, read independently of the reader.
            if case .v1(let memory, _, _) = location {
                #expect(
                    SysFile.read(memory + "/memory.limit_in_bytes")?.trimmingCharacters(in: .whitespacesAndNewlines)
                        == "67108864")
            }

            try await engine.updateContainer(
                id,
                ResourceUpdate(
                    memory: try ResourceLimits.parseMemory("128m"), nanoCPUs: try ResourceLimits.parseCPUs("1.5")))
            let afterUpdate = try reader.usage(at: location)
            #expect(afterUpdate.memoryLimit == 134_217_728)
            #expect(afterUpdate.cpuQuotaNanoCPUs == 1_500_000_000)
            #expect(try await engine.inspectContainer(id).memory == 134_217_728)

            let fromEngine = try await engine.oneShotStats(id)
            #expect(fromEngine.memoryLimit == 134_217_728)
        }
    }

    @Test func lifecycleAndNotModifiedReplies() async throws {
        try await TestEngine.isolated("life") { engine, prefix in
            let name = prefix + "-a"
            let id = try await engine.createContainer(TestEngine.spec(name))
            #expect(try await engine.inspectContainer(name).state == .created)
            #expect(try await engine.startContainer(name))
            #expect(try await engine.startContainer(name) == false, "a second start is the engine's 304")
            let top = try await engine.top(name)
            #expect(top.processes.contains { $0.joined(separator: " ").contains("sleep 1000") })
            #expect(try await engine.stopContainer(name, timeout: 1))
            #expect(try await engine.stopContainer(name, timeout: 1) == false, "a second stop is the engine's 304")
            #expect(try await engine.inspectContainer(id).state == .exited)
            try await engine.restartContainer(name, timeout: 1)
            #expect(try await engine.inspectContainer(id).state == .running)
            try await engine.killContainer(name)
            #expect(try await engine.waitContainer(name) == 137)
            try await engine.removeContainer(name)
            await #expect {
                try await engine.inspectContainer(name)
            } throws: { ($0 as? EngineError)?.code == .notFound }
        }
    }

    @Test func logsAreDemultiplexedAndFollowed() async throws {
        try await TestEngine.isolated("logs") { engine, prefix in
            let name = prefix + "-a"
            let script = "echo out1; echo err1 >&2; sleep 0.3; echo out2; exit 3"
            _ = try await engine.createContainer(TestEngine.spec(name, command: ["sh", "-c", script]))
            try await engine.startContainer(name)
            let frames = Mutex<[StreamFrame]>([])
            var options = LogOptions()
            options.follow = true
            try await engine.logs(name, options: options, tty: false) { frame in
                frames.withLock { $0.append(frame) }
                return true
            }
            let all = frames.withLock { $0 }
            let stdout = String(decoding: all.filter { $0.stream == .stdout }.flatMap(\.payload), as: UTF8.self)
            let stderr = String(decoding: all.filter { $0.stream == .stderr }.flatMap(\.payload), as: UTF8.self)
            #expect(stdout == "out1\nout2\n")
            #expect(stderr == "err1\n")
            #expect(try await engine.waitContainer(name) == 3)
        }
    }

    @Test func errorsCarryTheEnginesMessage() async throws {
        try await TestEngine.isolated("errors") { engine, prefix in
            do {
                _ = try await engine.inspectContainer(prefix + "-missing")
                Issue.record("inspecting a missing container succeeded")
            } catch let error as EngineError {
                #expect(error.code == .notFound && error.status == 404)
                #expect(error.message.contains(prefix + "-missing"))
            }
            _ = try await engine.createContainer(TestEngine.spec(prefix + "-dup"))
            await #expect {
                _ = try await engine.createContainer(TestEngine.spec(prefix + "-dup"))
            } throws: { ($0 as? EngineError)?.code == .conflict }
            var missingImage = TestEngine.spec(prefix + "-noimage")
            missingImage.image = "ccorc-no-such-image:never"
            await #expect {
                _ = try await engine.createContainer(missingImage)
            } throws: { ($0 as? EngineError)?.code == .notFound }
            var tooSmall = TestEngine.spec(prefix + "-tiny")
            tooSmall.memory = 1024
            await #expect {
                _ = try await engine.createContainer(tooSmall)
            } throws: { ($0 as? EngineError)?.code == .invalidArgument }
            await #expect {
                try await engine.removeContainer(prefix + "-dup-running-check", force: false)
            } throws: { ($0 as? EngineError)?.code == .notFound }
        }
    }

    @Test func anUnreachableEngineIsItsOwnError() async throws {
        let engine = try EngineClient(host: EngineHost(socketPath: "/tmp/ccorc-no-engine-\(getpid()).sock"))
        do {
            try await engine.ping()
            Issue.record("ping of a missing socket succeeded")
        } catch let error as EngineError {
            #expect(error.code == .unreachable)
            #expect(error.description.contains("/tmp/ccorc-no-engine-"))
            #expect(error.description.contains("is dockerd running"))
        }
    }

    @Test func manyRequestsRunConcurrentlyAndFiltersSelect() async throws {
        try await TestEngine.isolated("bulk") { engine, prefix in
            let names = (0..<24).map { "\(prefix)-\($0)" }
            let created = await forEachConcurrently(names, width: 16) { name in
                var spec = TestEngine.spec(name)
                spec.labels["ccorc.test.group"] = prefix
                spec.labels["ccorc.test.parity"] = name.hasSuffix("0") || name.hasSuffix("2") ? "even" : "other"
                _ = try await engine.createContainer(spec)
            }
            #expect(created.allSatisfy { $0.error == nil })
            let byLabel = try await engine.listContainers(all: true, filters: ["label": ["ccorc.test.group=\(prefix)"]])
            #expect(Set(byLabel.map(\.name)) == Set(names))
            let byName = try await engine.listContainers(all: true, filters: ["name": ["^/\(prefix)-1"]])
            #expect(Set(byName.map(\.name)) == Set(names.filter { $0.hasPrefix(prefix + "-1") }))
            _ = await forEachConcurrently(Array(names.prefix(3))) { try await engine.startContainer($0) }
            let running = try await engine.listContainers(
                all: true, filters: ["label": ["ccorc.test.group=\(prefix)"], "status": ["running"]])
            #expect(Set(running.map(\.name)) == Set(names.prefix(3)))
            // 24 entries arrive in several chunks; a brief listing with one label keeps the rest.
            let brief = try await engine.listContainers(
                all: true, filters: ["label": ["ccorc.test.group=\(prefix)"]], labels: ["ccorc.test.parity"],
                brief: true)
            let full = Dictionary(
                uniqueKeysWithValues: try await engine.listContainers(
                    all: true, filters: ["label": ["ccorc.test.group=\(prefix)"]]
                ).map { ($0.id, $0) })
            #expect(brief.count == names.count)
            for container in brief {
                let whole = try #require(full[container.id])
                #expect(container.name == whole.name && container.state == whole.state)
                // The status text carries an age ("Up 2 seconds") that moves between the two calls.
                #expect(
                    !container.status.isEmpty
                        && container.status.split(separator: " ").first == whole.status.split(separator: " ").first,
                    "\(container.status) / \(whole.status)")
                #expect(container.labels == ["ccorc.test.parity": whole.labels["ccorc.test.parity"]!])
                #expect(container.image.isEmpty && container.command.isEmpty && !whole.image.isEmpty)
            }
            let removed = await forEachConcurrently(names, width: 16) {
                try await engine.removeContainer($0, force: true)
            }
            #expect(removed.allSatisfy { $0.error == nil })
            #expect(
                try await engine.listContainers(all: true, filters: ["label": ["ccorc.test.group=\(prefix)"]]).isEmpty)
        }
    }

    @Test func volumesAndImages() async throws {
        try await TestEngine.isolated("vol") { engine, prefix in
            let volume = try await engine.createVolume(
                name: prefix + "-state", labels: [OwnershipLabels.managed: "true", "ccorc.test": prefix])
            #expect(volume.name == prefix + "-state")
            let listed = try await engine.listVolumes(filters: ["label": ["ccorc.test=\(prefix)"]])
            #expect(listed.map(\.name) == [prefix + "-state"])
            #expect(try await engine.inspectVolume(volume.name).labels["ccorc.test"] == prefix)
            try await engine.removeVolume(volume.name)
            #expect(try await engine.listVolumes(filters: ["label": ["ccorc.test=\(prefix)"]]).isEmpty)

            let tag = prefix + "-import"
            var tar = TarWriter()
            try tar.addFile("hello.txt", contents: Array("hi".utf8))
            _ = try await engine.importImage(tarball: tar.finish(), repository: tag, tag: "v1")
            #expect(try await engine.imageExists("\(tag):v1"))
            #expect(try await engine.listImages().contains { $0.repoTags.contains("\(tag):v1") })
            try await engine.removeImage("\(tag):v1")
            #expect(try await engine.imageExists("\(tag):v1") == false)
            await #expect {
                _ = try await engine.importImage(
                    tarball: Array("not a tarball at all".utf8), repository: tag, tag: "bad")
            } throws: { $0 is EngineError }
        }
    }
}
