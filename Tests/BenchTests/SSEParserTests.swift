import Bench
import Testing

@Suite struct SSEParserTests {
    /// A stream as a server writes it: CRLF and LF line ends, a comment, an event field, multi-byte text.
    static let body = "data: {\"text\":\"caf\u{e9} \u{1F600}\"}\r\n\r\n: keep-alive\n\nevent: message\ndata:{\"n\":2}\n\n"
        + "data: [DONE]\n\n"
    static let expected = ["{\"text\":\"caf\u{e9} \u{1F600}\"}", "{\"n\":2}", "[DONE]"]

    @Test func wholeBody() {
        var parser = SSEParser()
        #expect(parser.feed(Array(Self.body.utf8)) == Self.expected)
        #expect(parser.finish().isEmpty)
    }

    @Test func everySplitPointGivesTheSamePayloads() {
        let bytes = Array(Self.body.utf8)
        // Two reads cut at every byte (inside "\r\n", inside the 2- and 4-byte characters, inside "data:").
        for cut in 0...bytes.count {
            var parser = SSEParser()
            let payloads = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(payloads == Self.expected, "cut at \(cut)")
        }
        // One byte per read.
        var parser = SSEParser()
        var payloads: [String] = []
        for b in bytes { payloads += parser.feed([b]) }
        #expect(payloads == Self.expected)
    }

    @Test func unterminatedLastLine() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: a\ndata: b".utf8)) == ["a"])
        #expect(parser.finish() == ["b"])
    }

    @Test func urls() throws {
        let u = try BenchURL(parsing: "http://localhost:8080/base")
        #expect(u.host == "localhost" && u.port == 8080 && u.path == "/base")
        #expect(u.appending(path: "/generate").path == "/base/generate")
        let d = try BenchURL(parsing: "http://10.0.0.1")
        #expect(d.port == 80 && d.path == "/")
        #expect(d.appending(path: "v1/models").description == "http://10.0.0.1:80/v1/models")
        let v6 = try BenchURL(parsing: "http://[::1]:30000")
        #expect(v6.host == "::1" && v6.port == 30000)
        let secure = try BenchURL(parsing: "https://example.com/v1")
        #expect(secure.tls && secure.port == 443 && secure.hostHeader == "example.com" && secure.path == "/v1")
        #expect(try BenchURL(parsing: "HTTPS://example.com:8443").hostHeader == "example.com:8443")
        #expect(!u.tls && u.hostHeader == "localhost:8080" && d.hostHeader == "10.0.0.1")
        #expect(throws: BenchError.self) { try BenchURL(parsing: "ftp://example.com") }
        #expect(throws: BenchError.self) { try BenchURL(parsing: "http://host:notaport") }
        #expect(throws: BenchError.self) { try BenchURL(parsing: "http://:80") }
    }
}
