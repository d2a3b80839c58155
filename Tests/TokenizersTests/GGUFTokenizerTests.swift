import Foundation
import GGUF
import JSON
import Testing
@testable import Tokenizers

/// Tokenizers loaded from GGUF files must tokenize and decode exactly as transformers does with the same file.
@Suite struct GGUFTokenizerTests {
    static let smollm2: Result<Tokenizer, any Error> = Result {
        try Tokenizer.load(from: try GGUFFixtures.smollm2GGUF())
    }

    @Test func smolLM2FixtureRowsThroughTheGGUF() throws {
        let tokenizer = try Self.smollm2.get()
        let rows = try GGUFFixtures.jsonLines(try GGUFFixtures.shared("smollm2/tokenize.jsonl"))
        #expect(rows.count > 200)
        var mismatches = 0
        for row in rows {
            let text = try #require(row["text"]?.stringValue)
            let expected = try #require(row["ids"]?.arrayValue).compactMap(\.intValue)
            let decoded = try #require(row["decoded"]?.stringValue)
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            let roundTrip = tokenizer.decode(expected)
            if ids != expected || roundTrip != decoded { mismatches += 1 }
            #expect(ids == expected, "ids of \(text.debugDescription)")
            #expect(roundTrip == decoded, "decode of \(text.debugDescription)")
        }
        #expect(mismatches == 0)
    }

    @Test func smolLM2SpecialTokensAndTemplateMatchTheHFTokenizer() throws {
        let tokenizer = try Self.smollm2.get()
        let config = try GGUFFixtures.json(try GGUFFixtures.shared("smollm2/hf-tokenizer/tokenizer_config.json"))
        #expect(tokenizer.bosToken == config["bos_token"]?.stringValue)
        #expect(tokenizer.eosToken == config["eos_token"]?.stringValue)
        #expect(tokenizer.unkToken == config["unk_token"]?.stringValue)
        #expect(tokenizer.padToken == config["pad_token"]?.stringValue)
        #expect(tokenizer.bosTokenId == 1)
        #expect(tokenizer.eosTokenId == 2)
        #expect(tokenizer.vocabSize == 49152)
        #expect(tokenizer.specialTokenIds == Set(0 ..< 17))
        #expect(tokenizer.encode("Hello", addSpecialTokens: true) == tokenizer.encode("Hello", addSpecialTokens: false))
        let template = try String(
            contentsOfFile: try GGUFFixtures.shared("smollm2/hf-tokenizer/chat_template.jinja"), encoding: .utf8)
        #expect(tokenizer.chatTemplate == template)
    }

    @Test(arguments: GGUFFixtures.syntheticNames)
    func syntheticVocabularyRowsMatchTransformers(name: String) throws {
        let tokenizer = try Tokenizer.load(from: try GGUFFixtures.resource("\(name).gguf"))
        let rows = try GGUFFixtures.jsonLines(try GGUFFixtures.resource("\(name).tokenize.jsonl"))
        #expect(rows.count >= 100)
        for row in rows {
            let text = try #require(row["text"]?.stringValue)
            let ids = try #require(row["ids"]?.arrayValue).compactMap(\.intValue)
            let withSpecial = try #require(row["ids_with_special"]?.arrayValue).compactMap(\.intValue)
            #expect(tokenizer.encode(text, addSpecialTokens: false) == ids, "\(name): ids of \(text.debugDescription)")
            #expect(tokenizer.encode(text, addSpecialTokens: true) == withSpecial,
                    "\(name): ids with special tokens of \(text.debugDescription)")
            #expect(tokenizer.decode(ids) == row["decoded"]?.stringValue, "\(name): decode of \(text.debugDescription)")
            #expect(tokenizer.decode(withSpecial, skipSpecialTokens: true) == row["decoded_skip_special"]?.stringValue,
                    "\(name): decode skipping special tokens of \(text.debugDescription)")
        }
        let config = try GGUFFixtures.json(try GGUFFixtures.resource("\(name).tokenizer_config.json"))
        #expect(tokenizer.bosToken == config["bos_token"]?.stringValue, "\(name): bos")
        #expect(tokenizer.eosToken == config["eos_token"]?.stringValue, "\(name): eos")
        #expect(tokenizer.addBosToken == config["add_bos_token"]?.boolValue, "\(name): add_bos_token")
        #expect(tokenizer.chatTemplate == config["chat_template"]?.stringValue, "\(name): chat template")
    }

    @Test func loadReportsMalformedGGUF() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).gguf")
        try Data("GGML not a gguf".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: TokenizerError.self) { try Tokenizer.load(from: url.path) }
    }
}
