import Foundation
import Testing

@testable import CCOrcKit

/// Sessions on an image laid out like the real agent image (`images/agent`): a non-root user
/// `agent` with `HOME=/home/agent`, `WORKDIR /home/agent` and `VOLUME /home/agent/.claude`,
/// launched without `--state-dir`. Every agent's state must land in its named volume and survive
/// everything the spec promises; nothing anonymous may be left on the engine.
@Suite(.serialized) struct AgentLayoutIntegrationTests {
    /// Imports a busybox image as `reference` in the agent layout, runs `body`, removes the image.
    private func withImage(
        _ reference: String, _ engine: EngineClient, user: String = "agent", changes: [String] = [],
        rootfs: [UInt8]? = nil,
        _ body: () async throws -> Void
    ) async throws {
        if let rootfs {
            let (repository, tag) = ImageReference.split(reference)
            _ = try await engine.importImage(tarball: rootfs, repository: repository, tag: tag, changes: changes)
        } else {
            _ = try await BusyboxImage.importImage(into: engine, reference: reference, user: user, changes: changes)
        }
        do {
            try await body()
        } catch {
            try? await engine.removeImage(reference, force: true)
            throw error
        }
        // Containers of the test are gone by now (each test cleans its session up): a failure
        // here is a leak.
        try await engine.removeImage(reference)
    }

    /// The volumes a container has mounted, by mount point: named and anonymous alike.
    private func mountedVolumes(_ engine: EngineClient, _ container: String) async throws -> [String: String] {
        let details = try await engine.inspectContainer(container)
        var volumes: [String: String] = [:]
        for mount in details.raw["Mounts"]?.array ?? [] where mount["Type"]?.string == "volume" {
            volumes[try #require(mount["Destination"]?.string)] = try #require(mount["Name"]?.string)
        }
        return volumes
    }

    private func expectGone(_ engine: EngineClient, volumes: some Sequence<String>) async throws {
        for volume in volumes {
            await #expect(throws: EngineError.self, "volume \(volume) is left behind") {
                _ = try await engine.inspectVolume(volume)
            }
        }
    }

    @Test func stateLandsInTheNamedVolumeAndSurvivesTheSpecsWorkflow() async throws {
        try await SessionTestbed.with("agent") { bed in
            let image = bed.prefix + "-agent:latest"
            try await withImage(image, bed.engine) {
                let name = bed.prefix + "-a"
                let leader = name + "-leader"
                let launch = try await bed.ccorc("launch", name, "--detach", "--image", image)
                #expect(launch.status == 0, "\(launch.stderr)")

                // The state directory came from the image, and it is the named volume that holds it.
                let mounts = try await mountedVolumes(bed.engine, leader)
                #expect(mounts == ["/home/agent/.claude": leader + "-state"], "nothing anonymous: \(mounts)")
                #expect(
                    try await bed.engine.inspectContainer(leader).labels[RecoveryLabels.stateDirectory]
                        == "/home/agent/.claude")

                // Day 1: the agent user writes into its ~/.claude.
                let write = try await bed.ccdk(
                    "exec", leader, "--", "sh", "-c", "id -u; echo day1 > ~/.claude/note; stat -c %u ~/.claude/note")
                #expect(write.status == 0, "\(write.stderr)")
                #expect(write.stdout == "1000\n1000\n")
                func note() async throws -> String {
                    try await bed.ccdk("exec", leader, "--", "cat", "/home/agent/.claude/note").stdout
                }

                // Day 2: stop and resume.
                await #expect(try bed.ccorc("stop", name, "--time", "1").status == 0)
                await #expect(try bed.ccorc("resume", name, "--detach").status == 0)
                await #expect(try note() == "day1\n")

                // A container removed behind ccorc's back, repaired.
                try await bed.engine.removeContainer(leader, force: true)
                let repair = try await bed.ccorc("cleanup", "--fix-broken", name, "--yes")
                #expect(repair.status == 0, "\(repair.stdout)\(repair.stderr)")
                await #expect(try bed.ccorc("resume", name, "--detach").status == 0)
                await #expect(try note() == "day1\n")
                #expect(try await mountedVolumes(bed.engine, leader) == ["/home/agent/.claude": leader + "-state"])

                // Removed with its volumes kept, then launched again under the same name.
                let keep = try await bed.ccorc("cleanup", "--remove", name, "--keep-volumes", "--yes")
                #expect(keep.status == 0, "\(keep.stderr)")
                #expect(try await bed.engine.inspectVolume(leader + "-state").name == leader + "-state")
                let relaunch = try await bed.ccorc("launch", name, "--detach", "--image", image)
                #expect(relaunch.status == 0, "\(relaunch.stderr)")
                await #expect(try note() == "day1\n")

                // Exported, removed (volumes kept) and imported into a fresh registry.
                let file = bed.home + "-export.json"
                defer { try? FileManager.default.removeItem(atPath: file) }
                let export = try await bed.ccorc("export", name, "--output", file)
                #expect(export.status == 0, "\(export.stderr)")
                await #expect(try bed.ccorc("cleanup", "--remove", name, "--keep-volumes", "--yes").status == 0)
                let freshHome = bed.home + "-fresh"
                defer { try? FileManager.default.removeItem(atPath: freshHome) }
                let fresh = bed.environment.merging(["CCORC_HOME": freshHome]) { $1 }
                let imported = try await Products.run("ccorc", ["import", "--create", file], environment: fresh)
                #expect(imported.status == 0, "\(imported.stderr)")
                #expect(try await mountedVolumes(bed.engine, leader) == ["/home/agent/.claude": leader + "-state"])
                await #expect(try Products.run("ccorc", ["resume", name, "--detach"], environment: fresh).status == 0)
                await #expect(try note() == "day1\n")

                // Cleanup leaves no volume of the session, named or anonymous.
                var everyVolume: Set<String> = []
                for role in ["leader", "researcher", "writer"] {
                    everyVolume.formUnion(try await mountedVolumes(bed.engine, "\(name)-\(role)").values)
                }
                #expect(everyVolume.count == 3)
                let cleanup = try await Products.run(
                    "ccorc", ["cleanup", "--remove", name, "--yes"], environment: fresh)
                #expect(cleanup.status == 0, "\(cleanup.stderr)")
                try await expectGone(bed.engine, volumes: everyVolume)
                #expect(
                    try await bed.engine.listVolumes(filters: ["label": ["\(OwnershipLabels.session)=\(name)"]]).isEmpty
                )
            }
        }
    }

    @Test func theHomeComesFromPasswdAndOtherImageVolumesAreNamed() async throws {
        try await SessionTestbed.with("passwd") { bed in
            let image = bed.prefix + "-nohome:latest"
            // USER without HOME: the home is agent's in the image's /etc/passwd. One more VOLUME
            // than the state directory, which must get a named volume rather than an anonymous one.
            let rootfs = try BusyboxImage.rootfsArchive(user: "agent")
            try await withImage(
                image, bed.engine, changes: ["USER agent", "VOLUME /var/cache/agent", "CMD [\"sh\"]"], rootfs: rootfs
            ) {
                #expect(try await bed.engine.inspectImage(image).config.environmentValue("HOME") == nil)
                let name = bed.prefix + "-p"
                let leader = name + "-leader"
                let launch = try await bed.ccorc("launch", name, "--detach", "--image", image, "--agents", "leader")
                #expect(launch.status == 0, "\(launch.stderr)")
                let mounts = try await mountedVolumes(bed.engine, leader)
                #expect(
                    mounts == [
                        "/home/agent/.claude": leader + "-state", "/var/cache/agent": leader + "-var-cache-agent",
                    ])
                let volume = try await bed.engine.inspectVolume(leader + "-var-cache-agent")
                #expect(volume.labels[OwnershipLabels.session] == name)
                #expect(volume.labels[RecoveryLabels.volumeTarget] == "/var/cache/agent")
                // No probe container is left from reading /etc/passwd.
                #expect(try await bed.engine.listContainers(all: true, filters: ["name": ["ccorc-probe-"]]).isEmpty)

                // Both volumes survive a repair; the plan counts both.
                try await bed.engine.removeContainer(leader, force: true)
                let plan = try await bed.ccorc("cleanup", "--fix-broken", name, "--dry-run", "--json")
                #expect(
                    try JSONValue.parse(plan.stdout)["sessions"]?.array?.first?["volumes"]?.stringArray?.sorted()
                        == mounts.values.sorted())
                let repair = try await bed.ccorc("cleanup", "--fix-broken", name, "--yes")
                #expect(repair.status == 0, "\(repair.stdout)\(repair.stderr)")
                #expect(try await mountedVolumes(bed.engine, leader) == mounts)

                // `recover` rebuilds the row with the image volume from the labels alone.
                for suffix in ["", "-wal", "-shm"] {
                    try? FileManager.default.removeItem(atPath: bed.home + "/registry.db" + suffix)
                }
                await #expect(try bed.ccorc("list", "--json").stdout.contains(name) == false)
                let recovered = try await bed.ccorc("recover")
                #expect(recovered.status == 0, "\(recovered.stderr)")
                let removal = try await bed.ccorc("cleanup", "--remove", name, "--dry-run", "--json")
                let planned = try JSONValue.parse(removal.stdout)["sessions"]?.array?.first?["volumes"]?.stringArray
                #expect(planned?.sorted() == mounts.values.sorted(), "\(removal.stdout)")
                let cleanup = try await bed.ccorc("cleanup", "--remove", name, "--yes")
                #expect(cleanup.status == 0, "\(cleanup.stderr)")
                try await expectGone(bed.engine, volumes: mounts.values)
            }
        }
    }
}
