import Foundation
import JSON
import Testing
@testable import Tokenizers

/// The hand-written GPT-2 / Llama-3 / Qwen2 scanners against HF tokenizers' `Split(Regex, isolated)` on
/// real and random Unicode strings (Resources/core/scanner_splits.jsonl, scripts/make_scanner_fixtures.py).
@Suite struct ScannerFixtureTests {
    static func rows() throws -> [JSONValue] {
        let path = try CoreFixtures.resource("core/scanner_splits.jsonl")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    func pieces(_ pattern: ScannerPattern, _ text: String) -> [String] {
        var text = text
        return text.withUTF8 { s in
            PatternScanner(pattern).pieces(s).map { String(decoding: UnsafeBufferPointer(rebasing: s[$0.0..<$0.1]), as: UTF8.self) }
        }
    }

    @Test(arguments: ScannerPattern.allCases)
    func scannerMatchesHFSplit(_ pattern: ScannerPattern) throws {
        let rows = try Self.rows()
        #expect(rows.count >= 1500)
        var mismatches = 0
        for row in rows {
            let text = try #require(row["text"]?.stringValue)
            let expected = try #require(row[pattern.rawValue]?.arrayValue).compactMap(\.stringValue)
            let got = pieces(pattern, text)
            if got != expected {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(pattern) \(text.debugDescription): \(got) != \(expected)") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func splitPreTokenizerJSONSelectsScanner() throws {
        for pattern in ScannerPattern.allCases {
            let json = JSONValue.object(JSONObject([
                ("type", .string("Split")), ("pattern", .object(JSONObject([("Regex", .string(pattern.regex))]))),
                ("behavior", .string("Isolated")), ("invert", .bool(false)),
            ]))
            let pre = try makePreTokenizer(json)
            #expect((pre as? ScannerPreTokenizer)?.scanner.pattern == pattern)
            let out = pre.preTokenize([PreToken(text: "Hello  world's 12345", atTextStart: true)]).map(\.text)
            #expect(out == pieces(pattern, "Hello  world's 12345"))
        }
    }
}
