import Foundation
import JSON
import Testing
@testable import Tokenizers

/// Small tokenizers trained with HF tokenizers (scripts/make_core_fixtures.py): added tokens with
/// lstrip/rstrip/single_word/normalized, and SentencePiece-style BPE with byte fallback in both encodings.
@Suite struct TrainedTokenizerTests {
    @Test(arguments: ["bytelevel_added", "sp_legacy", "sp_metaspace"])
    func casesMatchHF(_ name: String) throws {
        let tokenizer = try Tokenizer.load(from: try CoreFixtures.resource("core/\(name)/tokenizer.json"))
        let text = try String(contentsOfFile: try CoreFixtures.resource("core/\(name)/cases.jsonl"), encoding: .utf8)
        let rows = try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(rows.count >= 15)
        for row in rows {
            let s = try #require(row["text"]?.stringValue)
            let ids = try #require(row["ids"]?.arrayValue).compactMap(\.intValue)
            let idsSpecial = try #require(row["ids_special"]?.arrayValue).compactMap(\.intValue)
            #expect(tokenizer.encode(s, addSpecialTokens: false) == ids, "\(name) \(s.debugDescription)")
            #expect(tokenizer.encode(s) == idsSpecial, "\(name) special \(s.debugDescription)")
            #expect(tokenizer.decode(ids) == row["decoded"]?.stringValue, "\(name) decode \(s.debugDescription)")
            #expect(tokenizer.decode(ids, skipSpecialTokens: true) == row["decoded_skip"]?.stringValue,
                    "\(name) decode skip \(s.debugDescription)")
            // Streaming reproduces decode, including SentencePiece's leading-space rule.
            var detok = tokenizer.makeIncrementalDetokenizer()
            var streamed = ""
            for id in ids { streamed += detok.append(id) }
            streamed += detok.finish()
            #expect(streamed == tokenizer.decode(ids), "\(name) stream \(s.debugDescription)")
        }
    }

    @Test func addedTokenFlagsAreRead() throws {
        let tokenizer = try Tokenizer.load(from: try CoreFixtures.resource("core/bytelevel_added/tokenizer.json"))
        let byContent = Dictionary(tokenizer.addedTokens.map { ($0.content, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byContent["<lstrip>"]?.lstrip == true)
        #expect(byContent["<rstrip>"]?.rstrip == true)
        #expect(byContent["word"]?.singleWord == true)
        #expect(byContent["hello world"]?.normalized == true)
        #expect(tokenizer.specialTokenIds.contains(try #require(tokenizer.tokenToId("<both>"))))
        #expect(!tokenizer.specialTokenIds.contains(try #require(tokenizer.tokenToId("word"))))
    }
}
