import Foundation

/// Finds where HTTP/1.1 messages begin and end in a byte stream, one direction of a connection,
/// without keeping their bodies: what the proxy needs to tell where a request begins and where its
/// response ends.
struct HTTPScanner {
    /// Which direction the scanned bytes go: requests from the client, or responses from the engine.
    enum Kind { case request, response }

    /// A message's start line and headers.
    struct Head {
        /// Request: method and target; response: the status code.
        var method = "", target = "", status = 0
        /// Header values by lower-cased name.
        var headers: [String: String] = [:]

        /// Parses a head, `bytes` up to and including its blank line.
        init(_ bytes: [UInt8], kind: Kind) {
            let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
            let start = lines.first?.split(separator: " ", maxSplits: 2).map(String.init) ?? []
            switch kind {
            case .request:
                method = start.first ?? ""
                target = start.count > 1 ? start[1] : ""
            case .response:
                status = start.count > 1 ? Int(start[1]) ?? 0 : 0
            }
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
        }

        /// How the headers frame the body: chunked, a length, or neither.
        private var framedBody: Body {
            if headers["transfer-encoding"]?.lowercased().contains("chunked") == true { return .chunked }
            if let length = headers["content-length"].flatMap({ Int($0) }) { return .length(length) }
            return .none
        }

        /// How a request's body is framed (none without a length or chunking).
        var requestBody: Body { framedBody }

        /// How a response to a `method` request is framed (RFC 9112 section 6.3).
        func responseBody(toMethod method: String) -> Body {
            if status == 101 { return .tunnel }
            if (100..<200).contains(status) { return .interim }
            if method == "HEAD" || status == 204 || status == 304 { return .none }
            let framed = framedBody
            if case .none = framed { return .untilClose }
            return framed
        }
    }

    /// How a message's body is delimited.
    enum Body {
        case none
        case length(Int)
        case chunked, untilClose
        /// A 1xx response: another head follows for the same request.
        case interim
        /// A 101 response: the connection carries something else from now on.
        case tunnel
    }

    /// What `feed` reports, in the order the bytes bring it.
    enum Event {
        /// The first byte of a message arrived.
        case began
        /// Its head is complete.
        case head(Head)
        /// Its last byte arrived.
        case ended
    }

    /// Where in a message the next byte falls.
    private enum Phase {
        case idle, head
        case body(Int)
        case chunkSize
        case chunkData(Int)
        case chunkEnd, trailers, untilClose, tunnel
    }

    /// Whether this direction carries requests or responses.
    let kind: Kind
    private var phase = Phase.idle
    /// The head or chunk line read so far, kept across reads.
    private var line: [UInt8] = []

    /// A scanner of one direction, expecting a message to begin.
    init(kind: Kind) { self.kind = kind }

    /// Scans `bytes`, reporting events in order; `decide` says how the body of a head is framed.
    mutating func feed(_ bytes: ArraySlice<UInt8>, decide: (Head) -> Body, _ report: (Event) -> Void) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch phase {
            case .idle:
                report(.began)
                phase = .head
            case .head:
                line.append(bytes[index])
                index += 1
                guard line.count >= 4, line.suffix(4).elementsEqual([13, 10, 13, 10]) else { continue }
                let head = Head(line, kind: kind)
                line = []
                report(.head(head))
                switch decide(head) {
                case .none: finish(report)
                case .length(let length): if length > 0 { phase = .body(length) } else { finish(report) }
                case .chunked: phase = .chunkSize
                case .untilClose: phase = .untilClose
                case .interim: phase = .head
                case .tunnel:
                    report(.ended)
                    phase = .tunnel
                }
            case .body(let left):
                let taken = min(left, bytes.endIndex - index)
                index += taken
                if taken == left { finish(report) } else { phase = .body(left - taken) }
            case .chunkSize, .chunkEnd, .trailers:
                line.append(bytes[index])
                index += 1
                guard line.last == 10 else { continue }
                let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                line = []
                if case .chunkSize = phase {
                    let size = Int(text.split(separator: ";").first.map(String.init) ?? "", radix: 16) ?? 0
                    phase = size == 0 ? .trailers : .chunkData(size)
                } else if case .chunkEnd = phase {
                    phase = .chunkSize
                } else if text.isEmpty {
                    finish(report)
                }
            case .chunkData(let left):
                let taken = min(left, bytes.endIndex - index)
                index += taken
                phase = taken == left ? .chunkEnd : .chunkData(left - taken)
            case .untilClose, .tunnel:
                index = bytes.endIndex
            }
        }
    }

    /// Reports a message's end and waits for the next one.
    private mutating func finish(_ report: (Event) -> Void) {
        report(.ended)
        phase = .idle
    }
}
