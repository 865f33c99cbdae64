import Foundation
import Testing

@testable import CCOrcKit

@Suite struct RegistryNameTests {
    @Test(arguments: ["a", "A", "0", "leader", "team_1-x", "0abc", "a--b__c", String(repeating: "x", count: 63)])
    func acceptsValidNames(_ value: String) throws {
        #expect(try SessionName(value).rawValue == value)
        #expect(try AgentRole(value).rawValue == value)
        #expect(SessionName(rawValue: value) != nil)
        #expect(SessionName.isValid(value))
    }

    @Test(arguments: [
        "", "a.b", "a:b", "-x", "_x", "x y", " x", "x ", String(repeating: "x", count: 64), "$(rm)", "$(rm -rf ~)",
        "a;b", "a/b", "../x", "é", "a\nb", "a\u{0}b", "`id`", "a'b", "a\"b",
    ])
    func rejectsHostileNames(_ value: String) {
        #expect(SessionName(rawValue: value) == nil)
        #expect(AgentRole(rawValue: value) == nil)
        do {
            _ = try SessionName(value)
            Issue.record("accepted \(value.debugDescription)")
        } catch {
            #expect(error.code == .invalidName)
            #expect(error.description.contains("session name"))
            #expect(error.description.contains("1-63 characters"))
            #expect(error.description.contains("starting with a letter or digit"))
            #expect(!error.description.contains("\n"))
        }
        #expect(throws: RegistryError.self) { try AgentRole(value) }
    }

    @Test func errorNamesTheBadValue() {
        do {
            _ = try SessionName("a.b")
            Issue.record("accepted a.b")
        } catch {
            #expect(
                error.description
                    == "invalid session name \"a.b\": must be 1-63 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit"
            )
        }
        do {
            _ = try AgentRole("x y")
            Issue.record("accepted x y")
        } catch {
            #expect(error.description.hasPrefix("invalid agent role \"x y\""))
        }
    }

    @Test func decodingValidates() throws {
        let good = try JSONDecoder().decode([SessionName].self, from: Data(#"["alpha","b-2"]"#.utf8))
        #expect(good.map(\.rawValue) == ["alpha", "b-2"])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([SessionName].self, from: Data(#"["a.b"]"#.utf8)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(AgentRole.self, from: Data(#""-x""#.utf8)) }
        let encoded = try JSONEncoder().encode(try AgentRole("leader"))
        #expect(String(decoding: encoded, as: UTF8.self) == #""leader""#)
    }

    @Test func defaultHomeFollowsTheEnvironment() {
        #expect(
            SessionRegistry.defaultHome(environment: ["CCORC_HOME": "/srv/ccorc", "HOME": "/home/u"]) == "/srv/ccorc")
        #expect(SessionRegistry.defaultHome(environment: ["CCORC_HOME": "", "HOME": "/home/u"]) == "/home/u/.ccorc")
        #expect(SessionRegistry.defaultHome(environment: ["HOME": "/home/u"]) == "/home/u/.ccorc")
    }
}

@Suite struct CleanupInputTests {
    @Test func durations() throws {
        #expect(try CleanupSelection.parseDuration("90m") == 5400)
        #expect(try CleanupSelection.parseDuration("36h") == 129_600)
        #expect(try CleanupSelection.parseDuration("7d") == 604_800)
        #expect(try CleanupSelection.parseDuration("45") == 45)
        for bad in ["", "d", "-3d", "7x", "1.5.2h", "nan"] {
            #expect(throws: SessionError.self, "\(bad)") { try CleanupSelection.parseDuration(bad) }
        }
    }

    @Test func picks() throws {
        #expect(try CleanupPlan.parsePicks("1 3-5", count: 6) == [0, 2, 3, 4])
        #expect(try CleanupPlan.parsePicks("2,2, 1", count: 3) == [0, 1])
        #expect(try CleanupPlan.parsePicks("all", count: 3) == [0, 1, 2])
        #expect(try CleanupPlan.parsePicks("ALL", count: 0) == [])
        for bad in ["0", "4", "3-1", "1-", "-2", "x", "1-2-3"] {
            #expect(throws: SessionError.self, "\(bad)") { try CleanupPlan.parsePicks(bad, count: 3) }
        }
    }
}
