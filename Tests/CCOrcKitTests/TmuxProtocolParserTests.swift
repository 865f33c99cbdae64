import Testing

@testable import CCOrcKit

/// The control-mode parser, fed transcripts recorded from tmux 3.3a.
@Suite("tmux control-mode parser")
struct TmuxProtocolParserTests {
    /// `tmux -C new-session -s rec`, then list-sessions, a failing kill-session, a subscription,
    /// send-keys (pane output), a session made by another client, and kill-server.
    static let recorded = #"""
        %begin 1795646800 259 0
        %end 1795646800 259 0
        %window-add @0
        %sessions-changed
        %session-changed $0 rec
        %begin 1795646801 265 1
        $0 rec
        %end 1795646801 265 1
        %begin 1795646801 266 1
        can't find session: nope
        %error 1795646801 266 1
        %begin 1795646801 267 1
        %end 1795646801 267 1
        %subscription-changed win $0 - - - : 1
        %begin 1795646802 268 1
        %end 1795646802 268 1
        %begin 1795646802 269 1
        %end 1795646802 269 1
        %output %0 printf "a\134\134\134\134b\134\134001\134\134n"\015\012
        %unlinked-window-add @1
        %sessions-changed
        %begin 1795646803 274 1
        %end 1795646803 274 1
        %sessions-changed
        %sessions-changed
        %exit

        """#

    static let expected: [TmuxProtocolEvent] = [
        .reply(TmuxReply(time: 1_795_646_800, number: 259, flags: 0, succeeded: true, lines: [])),
        .notification(.windowAdd(windowID: "@0")),
        .notification(.sessionsChanged),
        .notification(.sessionChanged(sessionID: "$0", name: "rec")),
        .reply(TmuxReply(time: 1_795_646_801, number: 265, flags: 1, succeeded: true, lines: ["$0 rec"])),
        .reply(
            TmuxReply(time: 1_795_646_801, number: 266, flags: 1, succeeded: false, lines: ["can't find session: nope"])
        ),
        .reply(TmuxReply(time: 1_795_646_801, number: 267, flags: 1, succeeded: true, lines: [])),
        .notification(
            .subscriptionChanged(
                TmuxSubscriptionChange(
                    name: "win", sessionID: "$0", windowID: nil, windowIndex: nil, paneID: nil, value: "1"))),
        .reply(TmuxReply(time: 1_795_646_802, number: 268, flags: 1, succeeded: true, lines: [])),
        .reply(TmuxReply(time: 1_795_646_802, number: 269, flags: 1, succeeded: true, lines: [])),
        .notification(.output(paneID: "%0", data: Array(#"printf "a\\\\b\\001\\n""#.utf8) + [13, 10])),
        .notification(.unlinkedWindowAdd(windowID: "@1")),
        .notification(.sessionsChanged),
        .reply(TmuxReply(time: 1_795_646_803, number: 274, flags: 1, succeeded: true, lines: [])),
        .notification(.sessionsChanged),
        .notification(.sessionsChanged),
        .notification(.exit(reason: nil)),
    ]

    @Test("a recorded transcript parses into the expected events")
    func recordedTranscript() {
        var parser = TmuxProtocolParser()
        let events = parser.feed(Array(Self.recorded.utf8))
        #expect(events == Self.expected)
        #expect(parser.finish().isEmpty)
    }

    @Test("the same transcript split at every possible byte gives the same events")
    func splitReads() {
        let bytes = Array(Self.recorded.utf8)
        for cut in stride(from: 1, to: bytes.count, by: 1) {
            var parser = TmuxProtocolParser()
            let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == Self.expected, "split at \(cut)")
        }
        // And one byte at a time.
        var parser = TmuxProtocolParser()
        var events: [TmuxProtocolEvent] = []
        for byte in bytes { events += parser.feed([byte]) }
        #expect(events == Self.expected)
    }

    @Test("output lines inside a block may look like protocol lines")
    func blockContentsAreOpaque() {
        var parser = TmuxProtocolParser()
        let events = parser.feed(
            Array(
                """
                %begin 10 5 1
                %1\t@1\t0
                %end 10 4 1
                %error 11 5 1
                %begin 10 6 1
                %exit
                %end 10 5 1

                """.utf8))
        #expect(
            events == [
                .reply(
                    TmuxReply(
                        time: 10, number: 5, flags: 1, succeeded: true,
                        lines: ["%1\t@1\t0", "%end 10 4 1", "%error 11 5 1", "%begin 10 6 1", "%exit"]))
            ])
    }

    @Test("octal escapes in %output are decoded to bytes, invalid ones kept")
    func outputEscapes() {
        #expect(
            TmuxProtocolParser.unescapeOutput(Array(#"a\134b\000\377\033[0m"#.utf8)) == Array("a\\b".utf8) + [
                0, 255, 27,
            ] + Array("[0m".utf8))
        #expect(TmuxProtocolParser.unescapeOutput(Array(#"\9\12"#.utf8)) == Array(#"\9\12"#.utf8))
        #expect(TmuxProtocolParser.unescapeOutput(Array(#"\400"#.utf8)) == Array(#"\400"#.utf8))
        var parser = TmuxProtocolParser()
        #expect(
            parser.feed(Array("%output %12 ét\\303\\251\\015\\012\n".utf8))
                == [.notification(.output(paneID: "%12", data: Array("ét".utf8) + [0xC3, 0xA9, 13, 10]))])
        #expect(
            parser.feed(Array("%extended-output %3 1234 : hi\\012\n".utf8))
                == [.notification(.extendedOutput(paneID: "%3", ageMilliseconds: 1234, data: Array("hi\n".utf8)))])
    }

    @Test("every notification of tmux 3.3a has a case")
    func notifications() {
        let lines: [(String, TmuxNotification)] = [
            ("%pause %4", .pause(paneID: "%4")),
            ("%continue %4", .continue(paneID: "%4")),
            ("%session-changed $3 name with spaces", .sessionChanged(sessionID: "$3", name: "name with spaces")),
            (
                "%client-session-changed /dev/pts/1 $2 s 2",
                .clientSessionChanged(client: "/dev/pts/1", sessionID: "$2", name: "s 2")
            ),
            ("%session-renamed $2 new name", .sessionRenamed(sessionID: "$2", name: "new name")),
            ("%session-window-changed $2 @7", .sessionWindowChanged(sessionID: "$2", windowID: "@7")),
            ("%client-detached client-99", .clientDetached(client: "client-99")),
            ("%window-close @7", .windowClose(windowID: "@7")),
            ("%window-renamed @7 vim main.c", .windowRenamed(windowID: "@7", name: "vim main.c")),
            ("%unlinked-window-close @8", .unlinkedWindowClose(windowID: "@8")),
            ("%unlinked-window-renamed @8 top", .unlinkedWindowRenamed(windowID: "@8", name: "top")),
            ("%window-pane-changed @7 %9", .windowPaneChanged(windowID: "@7", paneID: "%9")),
            (
                "%layout-change @7 b25f,80x24,0,0,2 b25f,80x24,0,0,2 *",
                .layoutChange(windowID: "@7", layout: "b25f,80x24,0,0,2 b25f,80x24,0,0,2 *")
            ),
            ("%pane-mode-changed %9", .paneModeChanged(paneID: "%9")),
            ("%paste-buffer-changed buffer0", .pasteBufferChanged(name: "buffer0")),
            ("%paste-buffer-deleted buffer0", .pasteBufferDeleted(name: "buffer0")),
            ("%message hello there", .message("hello there")),
            (
                "%config-error /root/.tmux.conf:1: unknown command: x",
                .configError("/root/.tmux.conf:1: unknown command: x")
            ),
            ("%exit server exited unexpectedly", .exit(reason: "server exited unexpectedly")),
            (
                "%subscription-changed dead $1 @2 0 %3 : 1 : x",
                .subscriptionChanged(
                    TmuxSubscriptionChange(
                        name: "dead", sessionID: "$1", windowID: "@2", windowIndex: 0, paneID: "%3", value: "1 : x"))
            ),
            (
                "%subscription-changed w $1 @2 3 - : ",
                .subscriptionChanged(
                    TmuxSubscriptionChange(
                        name: "w", sessionID: "$1", windowID: "@2", windowIndex: 3, paneID: nil, value: ""))
            ),
            ("%some-future-thing a b", .unknown(line: "%some-future-thing a b")),
        ]
        for (line, expected) in lines {
            var parser = TmuxProtocolParser()
            #expect(parser.feed(Array((line + "\n").utf8)) == [.notification(expected)], "\(line)")
        }
    }

    @Test("malformed and unexpected lines are reported, never fatal")
    func malformedLines() {
        var parser = TmuxProtocolParser()
        let events = parser.feed(
            Array(
                """
                hello
                %end 1 2 1
                %session-changed
                %subscription-changed x $1 - - - 1
                %output
                %begin 1 2
                %begin 5 6 1
                partial output
                """.utf8))
        #expect(events.count == 6)
        for event in events {
            guard case .notification(.protocolViolation) = event else {
                Issue.record("expected a protocol violation, got \(event)")
                continue
            }
        }
        let end = parser.finish()
        #expect(end.count == 2)  // the unfinished line, then the unfinished block
        #expect(parser.isInsideBlock == false)
        // The parser is usable afterwards.
        #expect(parser.feed(Array("%sessions-changed\n".utf8)) == [.notification(.sessionsChanged)])
    }

    @Test("a carriage return before a newline is data, not part of the line ending")
    func carriageReturnIsData() {
        var parser = TmuxProtocolParser()
        #expect(
            parser.feed(Array("%begin 1 2 1\r\nx\r\n%end 1 2 1\n".utf8))
                == [.notification(.protocolViolation(line: "%begin 1 2 1\r", reason: "malformed %begin guard line"))]
                + [
                    .notification(
                        .protocolViolation(line: "x\r", reason: "line outside a reply block does not start with %"))
                ]
                + [.notification(.protocolViolation(line: "%end 1 2 1", reason: "%end without %begin"))])
        #expect(
            parser.feed(Array("%begin 1 2 1\n\r\n%end 1 2 1\n".utf8))
                == [.reply(TmuxReply(time: 1, number: 2, flags: 1, succeeded: true, lines: ["\r"]))])
    }
}

/// `list-panes -F TmuxFormats.pane` rows as tmux 3.3a printed them (recorded here): a pane whose
/// process exited with status 3, one a signal ended (SIGTERM), and one still running.
@Suite struct TmuxPaneRowTests {
    let recorded = [
        "%1\t@1\t0\t0\t31770\t1\t3\t\t1\texit3\tsh",
        "%2\t@2\t1\t0\t31775\t1\t\t15\t1\tkilled\tsleep",
        "%3\t@3\t2\t0\t31779\t0\t\t\t1\tsleeper\tsleep",
    ]

    @Test func deadPanesCarryTheirStatusOrSignal() throws {
        let panes = try TmuxFormats.panes(recorded)
        #expect(panes.map(\.id) == ["%1", "%2", "%3"])
        #expect(panes.map(\.windowName) == ["exit3", "killed", "sleeper"])
        #expect(panes.map(\.isDead) == [true, true, false])
        #expect(panes.map(\.exitStatus) == [3, nil, nil])
        #expect(panes.map(\.exitSignal) == [nil, 15, nil])
        #expect(panes.map(\.pid) == [31770, 31775, 31779])
        #expect(panes.map(\.windowIndex) == [0, 1, 2])
        #expect(panes.allSatisfy { $0.isActive })
    }

    @Test func aDeadPaneNotYetReapedHasNoStatus() throws {
        // tmux sets pane_dead when the pty closes and pane_dead_status when it reaps the child.
        let pane = try #require(try TmuxFormats.panes(["%1\t@1\t0\t0\t31770\t1\t\t\t1\texit3\tsh"]).first)
        #expect(pane.isDead && pane.exitStatus == nil && pane.exitSignal == nil)
    }

    @Test func aStatusOfZeroIsNotMissing() throws {
        let pane = try #require(try TmuxFormats.panes(["%4\t@4\t3\t0\t1\t1\t0\t\t0\tw\tsh"]).first)
        #expect(pane.exitStatus == 0 && !pane.isActive)
    }

    @Test func malformedRowsAreProtocolErrors() {
        for row in ["%1\t@1\tx\t0\t1\t0\t\t\t1\tw\tsh", "garbage", "%1\t@1\t0"] {
            let error = #expect(throws: TmuxError.self, "\(row.debugDescription)") { try TmuxFormats.panes([row]) }
            #expect(error?.code == .protocolError)
        }
    }
}
