import Foundation
import Testing

@testable import CCOrcKit

/// One damaged registry row among good ones: registry-wide commands skip it with a warning,
/// commands that name it say how to drop it, and `forget` drops it without touching its resources.
@Suite(.serialized) struct DamagedRowIntegrationTests {
    @Test func aDamagedRowIsSkippedWarnedAboutAndForgotten() async throws {
        try await SessionTestbed.with("dmg") { bed in
            let p = bed.prefix
            let good = ["\(p)-a", "\(p)-b"]
            let bad = "\(p)-c"
            for name in good + [bad] { try await bed.plant(name) }
            let raw = try SQLiteDatabase(path: bed.home + "/registry.db")
            try raw.execute("UPDATE sessions SET config = '{not json' WHERE name = '\(bad)'", "damaging a row")
            let warning =
                "ccorc: warning: registry row \"\(bad)\" is damaged (bad config) and was skipped; drop it with `ccorc forget \(bad)`"

            let list = try await bed.ccorc("list")
            #expect(list.status == 0, "\(list.stderr)")
            #expect(good.allSatisfy { list.stdout.contains($0) } && !list.stdout.contains(bad), "\(list.stdout)")
            #expect(list.stderr.split(separator: "\n").map(String.init) == [warning], "\(list.stderr)")

            let json = try await bed.ccorc("list", "--json")
            #expect(json.status == 0, "\(json.stderr)")
            let listed = try JSONValue.parse(json.stdout)
            #expect((listed["sessions"]?.array ?? []).compactMap { $0["name"]?.string }.sorted() == good)
            #expect(listed["warnings"]?.array?.compactMap { $0["row"]?.string } == [bad])
            #expect(listed["warnings"]?.array?.first?["fix"]?.string == "ccorc forget \(bad)")

            // The damaged row still owns its containers and volumes: they are not orphans.
            let plan = try await bed.planned("--stopped-only")
            #expect(plan.sessions == [good[0]: "remove", good[1]: "remove"])
            // The engine is shared: only this test's names count.
            let orphans = try await bed.planned("--orphans").orphans.filter { $0.hasPrefix(p) }
            #expect(orphans.isEmpty, "\(orphans)")

            let recover = try await bed.ccorc("recover", "--dry-run")
            #expect(recover.status == 0, "\(recover.stdout)\(recover.stderr)")
            #expect(recover.stderr.contains(warning), "\(recover.stderr)")

            let export = try await bed.ccorc("export", "--all")
            #expect(export.status == 0, "\(export.stderr)")
            let exported = try JSONValue.parse(export.stdout)["sessions"]?.array ?? []
            #expect(exported.compactMap { $0["name"]?.string }.sorted() == good, "\(export.stdout)")
            #expect(export.stderr.split(separator: "\n").map(String.init) == [warning], "\(export.stderr)")

            let health = try await bed.ccorc("health", "--all", "--json")
            let checked = try JSONValue.parse(health.stdout)
            #expect(
                checked["warnings"]?.array?.compactMap { $0["row"]?.string } == [bad],
                "\(health.stdout)\(health.stderr)")

            let stop = try await bed.ccorc("stop", "--all", "--time", "1")
            #expect(stop.status == 0, "\(stop.stderr)")
            #expect(
                stop.stdout.contains("stopped \(good[0])") && stop.stdout.contains("stopped \(good[1])"),
                "\(stop.stdout)")
            #expect(stop.stderr.contains(warning), "\(stop.stderr)")

            // Named on its own, the row gives a one-line error with the fix.
            for command in [["info", bad], ["stop", bad], ["health", bad], ["cleanup", "--dry-run", bad]] {
                let result = try await Products.run("ccorc", command, environment: bed.environment)
                #expect(result.status == 1, "\(command): \(result.stdout)\(result.stderr)")
                let lines = result.stderr.split(separator: "\n")
                #expect(
                    lines.count == 1 && result.stderr.contains("damaged (bad config)")
                        && result.stderr.contains("`ccorc forget \(bad)`"), "\(command): \(result.stderr)")
            }

            let unknown = try await bed.ccorc("forget", "\(p)-missing", bad)
            #expect(unknown.status == 1 && unknown.stderr.contains("\(p)-missing"), "\(unknown.stderr)")
            let before = try await bed.labelledSessions()
            let forget = try await bed.ccorc("forget", bad)
            #expect(forget.status == 0, "\(forget.stderr)")
            #expect(forget.stdout == "forgot \(bad)\n")
            let after = try await bed.ccorc("list")
            #expect(after.status == 0 && after.stderr.isEmpty, "\(after.stderr)")
            #expect(try bed.registered() == Set(good))
            // Only the row went: the containers and volumes are still there.
            let left = try await bed.labelledSessions()
            #expect(
                left.containers.sorted() == before.containers.sorted()
                    && left.volumes.sorted() == before.volumes.sorted())
            #expect(left.containers.contains(bad))
        }
    }
}
