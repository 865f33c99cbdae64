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

    @Test func writesJanssonsFormat() {
        let value: JSONValue = ["b": [1, 2, [:]], "a": ["x": .double(1.5), "y": []], "c": "é\u{1}\"/\\\n\t"]
        #expect(value.serialized() == #"{"a":{"x":1.5,"y":[]},"b":[1,2,{}],"c":"é\u0001\"/\\\n\t"}"#)
        #expect(
            value.serialized(indent: 2) == """
                {
                  "a": {
                    "x": 1.5,
                    "y": []
                  },
                  "b": [
                    1,
                    2,
                    {}
                  ],
                  "c": "é\\u0001\\"/\\\\\\n\\t"
                }
                """)
        #expect(JSONValue.double(3).serialized() == "3.0")
        #expect(JSONValue.array([.double(.infinity), .double(.nan)]).serialized() == "[null,null]")
        #expect(
            JSONValue.object(["b": 1, "B": 2, "a": 3, "ab": 4]).serialized() == #"{"B":2,"a":3,"ab":4,"b":1}"#,
            "bytewise key order")
    }

    @Test func roundTripsThroughJansson() throws {
        let original: JSONValue = [
            "name": "a \"quoted\" name\n", "n": -42, "list": [1, "two", ["x": nil]], "flag": true,
        ]
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
        let body =
            Array(#"{"status":"a"}{"status":"b {x}"}"#.utf8) + Array("\r\n".utf8) + Array(#"{"error":"bad"}"#.utf8)
        let messages = try ProgressMessages.parse(body, operation: "test")
        #expect(messages.count == 3)
        #expect(messages[1]["status"]?.string == "b {x}")
        #expect(throws: EngineError.self) {
            try ProgressMessages.parse(Array(#"{"status":"a""#.utf8), operation: "test")
        }
    }
}

let recordedContainerList = """
    [{"Id":"8dfafdbc3a40aaaa","Names":["/demo-leader"],"Image":"ccorc-busybox:latest","ImageID":"sha256:1","Command":"sleep 1000",
      "Created":1732570000,"State":"running","Status":"Up 3 minutes","Labels":{"ccorc.session":"demo","ccorc.role":"leader"}},
     {"Id":"9dfafdbc3a40bbbb","Names":["/demo-writer"],"Image":"ccorc-busybox:latest","Command":"sh","Created":1732570001,
      "State":"created","Status":"Created","Labels":{}}]
    """

/// Two entries of a session container list as dockerd 20.10 (API 1.41) sent them.
let recordedListReply = #"""
    [{"Id":"4dcf4a203127644882d3e93200741dd77a0e855b4494b7863a40df03d8dac480","Names":["/bench5793-s99-writer"],"Image":"ccorc-busybox:latest","ImageID":"sha256:5fa271e4ed896e48e3c97bc205af73927ad44dded2094e17c2b3cdded746afa8","Command":"sh -c 'trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done'","Created":1795661135,"Ports":[],"Labels":{"ccorc.agent-command":"sh","ccorc.bench":"bench5793","ccorc.created":"1795661135","ccorc.created-at":"1795661135.223909","ccorc.env-keys":"","ccorc.image":"ccorc-busybox:latest","ccorc.managed":"true","ccorc.position":"2","ccorc.role":"writer","ccorc.schema":"1","ccorc.session":"bench5793-s99","ccorc.state-dir":"/root/.claude","ccorc.tmux-session":"bench5793-s99","ccorc.workdir":""},"State":"running","Status":"Up 43 seconds","HostConfig":{"NetworkMode":"none"},"NetworkSettings":{"Networks":{"none":{"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"b7984e15d053fc99805b77f2f49fd4598625fb815f9a165a3e46951ed20cfb8c","EndpointID":"1ddac0e670d345649a76b0d3853d5ccee09d0ce8d8478b25930440b43aa31504","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"","DriverOpts":null}}},"Mounts":[]},
    {"Id":"9baa054e0f6a42d1c2ebb9190a0172c664a16b01187a0532a7e3dcfb45059273","Names":["/bench5793-s999-writer"],"Image":"ccorc-busybox:latest","ImageID":"sha256:5fa271e4ed896e48e3c97bc205af73927ad44dded2094e17c2b3cdded746afa8","Command":"sh -c 'trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done'","Created":1795661146,"Ports":[],"Labels":{"ccorc.agent-command":"sh","ccorc.bench":"bench5793","ccorc.created":"1795661146","ccorc.created-at":"1795661146.1776967","ccorc.env-keys":"","ccorc.image":"ccorc-busybox:latest","ccorc.managed":"true","ccorc.position":"2","ccorc.role":"writer","ccorc.schema":"1","ccorc.session":"bench5793-s999","ccorc.state-dir":"/root/.claude","ccorc.tmux-session":"bench5793-s999","ccorc.workdir":""},"State":"created","Status":"Created","HostConfig":{"NetworkMode":"none"},"NetworkSettings":{"Networks":{"none":{"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"","DriverOpts":null}}},"Mounts":[]}]
    """#

let recordedInspect = """
    {"Id":"8dfafdbc3a40aaaa","Created":"2026-11-25T22:10:01.123456789Z","Name":"/demo-leader",
     "State":{"Status":"exited","Running":false,"OOMKilled":true,"Pid":0,"ExitCode":137,"Error":"",
              "StartedAt":"2026-11-25T22:10:02.5Z","FinishedAt":"0001-01-01T00:00:00Z"},
     "Image":"sha256:abc","RestartCount":0,
     "HostConfig":{"Memory":67108864,"MemorySwap":134217728,"NanoCpus":500000000,"NetworkMode":"none"},
     "Mounts":[{"Type":"volume","Name":"demo-leader-state","Source":"/var/lib/docker/volumes/x","Destination":"/root/.claude","RW":true}],
     "Config":{"Image":"ccorc-busybox:latest","Cmd":["sleep","1000"],"Env":["A=1"],"Labels":{"ccorc.session":"demo"},"WorkingDir":"/root","Tty":true}}
    """

@Suite struct JSONProjectionTests {
    private func parse(_ text: String, _ projection: JSONProjection) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8), projection: projection)
    }

    @Test func keepsOnlyTheNamedMembersOfListElements() throws {
        let text = #"[{"Id":"a","Ports":[{"x":1}],"Labels":{"k":"v"}},{"Id":"b","NetworkSettings":{}}]"#
        #expect(
            try parse(text, JSONProjection(members: ["Id", "Labels"])) == [
                ["Id": "a", "Labels": ["k": "v"]], ["Id": "b"],
            ])
        #expect(try parse("[]", JSONProjection(members: ["Id"])) == [])
        #expect(try parse(" [ ] ", JSONProjection(members: ["Id"])) == [])
    }

    @Test func projectsOneNestedObject() throws {
        let text =
            #"[{"Id":"a","Labels":{"ccorc.session":"s","noise":"x","ccorc.role":"leader"}},{"Id":"b","Labels":null},{"Id":"c","Labels":{}}]"#
        let projection = JSONProjection(
            members: ["Id", "Labels"], nestedMember: "Labels", nestedKeys: ["ccorc.session", "ccorc.role"])
        #expect(
            try parse(text, projection) == [
                ["Id": "a", "Labels": ["ccorc.session": "s", "ccorc.role": "leader"]], ["Id": "b", "Labels": nil],
                ["Id": "c", "Labels": [:]],
            ])
    }

    @Test func skipsStringsThatLookLikeStructure() throws {
        // Quotes, backslashes and brackets inside strings, whitespace between tokens, numbers and literals.
        let text = #"""
            [ { "Command" : "sh -c 'echo \"}]\" \\\\'" , "Id" : "a\\" , "Created" : -1.5e3 , "Ok" : true ,
                "Nested" : { "a" : [ 1 , { "b" : "]}" } ] } , "Last" : null } ]
            """#
        #expect(
            try parse(text, JSONProjection(members: ["Id", "Created", "Last"])) == [
                ["Id": "a\\", "Created": .double(-1500), "Last": nil]
            ])
        #expect(
            try parse(text, JSONProjection(members: ["Command", "Ok"])) == [
                ["Command": #"sh -c 'echo "}]" \\'"#, "Ok": true]
            ])
    }

    @Test func parsesAnythingElseWhole() throws {
        #expect(try parse(#"{"Id":1}"#, JSONProjection(members: ["Id"])) == ["Id": 1], "non-arrays parse whole")
        #expect(
            try parse(#"[1,{"Id":2}]"#, JSONProjection(members: ["Id"])) == [1, ["Id": 2]],
            "arrays of non-objects parse whole")
    }

    @Test func malformedTextIsReportedByJansson() {
        for text in [
            #"[{"Id":"a"}"#, #"[{"Id":"a","X":{]}]"#, #"[{"Id":"a","X":"unterminated}]"#, #"[{"Id" "a"}]"#,
            "[{}] trailing",
        ] {
            #expect(throws: JSONError.self, "\(text)") { try parse(text, JSONProjection(members: ["Id"])) }
        }
    }

    @Test func largeRepliesParseInRunsWithTheSameResult() throws {
        let elements = (0..<4000).map { index -> JSONValue in
            [
                "Id": .string(String(repeating: "\(index % 10)", count: 64)), "Command": #"echo '},{"Id":"x"}'"#,
                "N": .int(Int64(index)),
                "Labels": ["a": "b", "ccorc.session": .string("s\(index)")],
            ]
        }
        let text = JSONValue.array(elements).serializedBytes()
        #expect(text.count >= JSONValue.parallelParseThreshold)
        let projection = JSONProjection(
            members: ["Id", "N", "Labels"], nestedMember: "Labels", nestedKeys: ["ccorc.session"])
        let expected = elements.map { element -> JSONValue in
            [
                "Id": element["Id"]!, "N": element["N"]!,
                "Labels": ["ccorc.session": element["Labels"]!["ccorc.session"]!],
            ]
        }
        #expect(try JSONValue.parse(text, projection: projection) == .array(expected))
        // A fault jansson finds in a kept string of a later run still fails the whole parse.
        var broken = text
        let last = broken.lastIndex(of: UInt8(ascii: "s"))!
        broken.replaceSubrange(last...last, with: Array(#"\q"#.utf8))
        #expect(throws: JSONError.self) { try JSONValue.parse(broken, projection: projection) }
    }

    @Test func recordedListReplyKeepsWhatTheSummaryReads() throws {
        let projection = JSONProjection(
            members: ["Id", "Names", "State", "Labels"], nestedMember: "Labels", nestedKeys: ["ccorc.session"])
        let whole = try JSONValue.parse(Array(recordedListReply.utf8))
        let projected = try JSONValue.parse(Array(recordedListReply.utf8), projection: projection)
        #expect(projected.array?.count == whole.array?.count)
        for (full, cut) in zip(whole.array ?? [], projected.array ?? []) {
            #expect(cut["Id"] == full["Id"] && cut["Names"] == full["Names"] && cut["State"] == full["State"])
            #expect(
                cut["Labels"]
                    == full["Labels"]?.object.map { JSONValue.object($0.filter { $0.key == "ccorc.session" }) })
            #expect(cut["NetworkSettings"] == nil && cut["HostConfig"] == nil)
        }
    }
}
