import Testing
@testable import CCOrcKit

@Suite struct JSONTests {
    @Test func parsesEveryKind() throws {
        let value = try JSONValue.parse(#"{"a":1,"b":2.5,"c":"x\u00e9","d":[true,false,null],"e":{"f":"g"}}"#)
        #expect(value["a"]?.int == 1)
        #expect(value["b"]?.double == 2.5)
        #expect(value["c"]?.string == "xé")
        #expect(value["d"] == [true, false, nil])
        #expect(value["e"]?["f"]?.string == "g")
        #expect(value["missing"] == nil)
    }

    @Test func roundTripsThroughJansson() throws {
        let original: JSONValue = ["name": "a \"quoted\" name\n", "n": -42, "list": [1, "two", ["x": nil]], "flag": true]
        let text = original.serialized()
        #expect(try JSONValue.parse(text) == original)
        #expect(text.contains(#"\"quoted\""#))
    }

    @Test(arguments: ["", "{", #"{"a":"#, #"[1,2"#, "nul", #"{"a" 1}"#])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
    }

    @Test func keepsEmbeddedNulBytes() throws {
        let value = try JSONValue.parse(#"["a\u0000b"]"#)
        #expect(value.array?.first?.string?.utf8.count == 3)
    }

    @Test func parsesARecordedContainerList() throws {
        let reply = try JSONValue.parse(recordedContainerList)
        let containers = try reply.array!.map(ContainerSummary.init(json:))
        #expect(containers.count == 2)
        #expect(containers[0].name == "demo-leader")
        #expect(containers[0].state == .running)
        #expect(containers[0].labels["ccorc.session"] == "demo")
        #expect(containers[1].state == .created)
    }

    @Test func aListEntryWithoutAnIdIsAMalformedReply() throws {
        let reply = try JSONValue.parse(#"[{"Names":["/x"]}]"#)
        #expect(throws: EngineError.self) { try reply.array!.map(ContainerSummary.init(json:)) }
    }

    @Test func parsesARecordedInspectReply() throws {
        let details = try ContainerDetails(json: try JSONValue.parse(recordedInspect))
        #expect(details.name == "demo-leader")
        #expect(details.memory == 67_108_864)
        #expect(details.nanoCPUs == 500_000_000)
        #expect(details.state == .exited)
        #expect(details.oomKilled)
        #expect(details.exitCode == 137)
        #expect(details.startedAt != nil)
        #expect(details.finishedAt == nil)
        #expect(details.mounts.first?.source == "demo-leader-state")
    }

    @Test func splitsProgressStreams() throws {
        let body = Array(#"{"status":"a"}{"status":"b {x}"}"#.utf8) + Array("\r\n".utf8) + Array(#"{"error":"bad"}"#.utf8)
        let messages = try ProgressMessages.parse(body, operation: "test")
        #expect(messages.count == 3)
        #expect(messages[1]["status"]?.string == "b {x}")
        #expect(throws: EngineError.self) { try ProgressMessages.parse(Array(#"{"status":"a""#.utf8), operation: "test") }
    }
}

let recordedContainerList = """
[{"Id":"8dfafdbc3a40aaaa","Names":["/demo-leader"],"Image":"ccorc-busybox:latest","ImageID":"sha256:1","Command":"sleep 1000",
  "Created":1732570000,"State":"running","Status":"Up 3 minutes","Labels":{"ccorc.session":"demo","ccorc.role":"leader"}},
 {"Id":"9dfafdbc3a40bbbb","Names":["/demo-writer"],"Image":"ccorc-busybox:latest","Command":"sh","Created":1732570001,
  "State":"created","Status":"Created","Labels":{}}]
"""

let recordedInspect = """
{"Id":"8dfafdbc3a40aaaa","Created":"2026-11-25T22:10:01.123456789Z","Name":"/demo-leader",
 "State":{"Status":"exited","Running":false,"OOMKilled":true,"Pid":0,"ExitCode":137,"Error":"",
          "StartedAt":"2026-11-25T22:10:02.5Z","FinishedAt":"0001-01-01T00:00:00Z"},
 "Image":"sha256:abc","RestartCount":0,
 "HostConfig":{"Memory":67108864,"MemorySwap":134217728,"NanoCpus":500000000,"NetworkMode":"none"},
 "Mounts":[{"Type":"volume","Name":"demo-leader-state","Source":"/var/lib/docker/volumes/x","Destination":"/root/.claude","RW":true}],
 "Config":{"Image":"ccorc-busybox:latest","Cmd":["sleep","1000"],"Env":["A=1"],"Labels":{"ccorc.session":"demo"},"WorkingDir":"/root","Tty":true}}
"""

@Suite struct JSONPruningTests {
    @Test func convertsOnlyTheNamedMembersOfListElements() throws {
        let text = #"[{"Id":"a","Ports":[{"x":1}],"Labels":{"k":"v"}},{"Id":"b","NetworkSettings":{}}]"#
        let pruned = try JSONValue.parse(Array(text.utf8), elementKeys: ["Id", "Labels"])
        #expect(pruned == [["Id": "a", "Labels": ["k": "v"]], ["Id": "b"]])
        #expect(try JSONValue.parse(Array("{\"Id\":1}".utf8), elementKeys: ["Id"]) == ["Id": 1], "non-arrays parse whole")
    }
}
