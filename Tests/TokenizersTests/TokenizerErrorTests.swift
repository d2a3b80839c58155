import Foundation
import JSON
import Testing
@testable import Tokenizers

/// Loading errors are typed and name the file or the component.
@Suite struct TokenizerErrorTests {
    func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("core-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func missingFileNamesThePath() throws {
        #expect(throws: TokenizerError.fileNotFound("/nonexistent/tokenizer.json")) {
            try Tokenizer.load(from: "/nonexistent/tokenizer.json")
        }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: TokenizerError.fileNotFound(dir.appendingPathComponent("tokenizer.json").path)) {
            try Tokenizer.load(from: dir.path)
        }
    }

    @Test func malformedJSONIsAnInvalidFile() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tokenizer.json").path
        try "{\"model\": [1, 2".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Tokenizer.load(from: path)
            Issue.record("expected an error")
        } catch let error as TokenizerError {
            guard case .invalidFile(let p, let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(p == path)
            #expect(reason.contains("malformed JSON"))
        }
    }

    @Test func unknownComponentTypeIsAClearError() throws {
        let json = try JSONValue.parse(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Fancy"}}"#)
        #expect(throws: TokenizerError.unknownComponent(kind: "pre_tokenizer", type: "Fancy")) {
            try Tokenizer(tokenizerJSON: json, config: nil, chatTemplate: nil)
        }
        let model = try JSONValue.parse(#"{"model": {"type": "Magic"}}"#)
        #expect(throws: TokenizerError.unknownComponent(kind: "model", type: "Magic")) {
            try Tokenizer(tokenizerJSON: model, config: nil, chatTemplate: nil)
        }
        let decoder = try JSONValue.parse(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "decoder": {"type": "Nope"}}"#)
        #expect(throws: TokenizerError.unknownComponent(kind: "decoder", type: "Nope")) {
            try Tokenizer(tokenizerJSON: decoder, config: nil, chatTemplate: nil)
        }
    }

    @Test func configFieldsAreRead() throws {
        let json = try JSONValue.parse(#"{"model": {"type": "BPE", "vocab": {"a": 0, "<s>": 1, "</s>": 2}, "merges": []}, "added_tokens": [{"id": 1, "content": "<s>", "special": true}, {"id": 2, "content": "</s>", "special": true}]}"#)
        let config = try JSONValue.parse(#"{"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>", "add_bos_token": true, "add_eos_token": true, "chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]}"#)
        let tokenizer = try Tokenizer(tokenizerJSON: json, config: config, chatTemplate: nil)
        #expect(tokenizer.bosTokenId == 1)
        #expect(tokenizer.eosTokenId == 2)
        #expect(tokenizer.encode("aa") == [1, 0, 0, 2])
        #expect(tokenizer.encode("aa", addSpecialTokens: false) == [0, 0])
        #expect(tokenizer.chatTemplate == "D")
        #expect(tokenizer.namedChatTemplates["tool_use"] == "T")
        let withFile = try Tokenizer(tokenizerJSON: json, config: config, chatTemplate: "F")
        #expect(withFile.chatTemplate == "F")
    }

    @Test func smolLM2FolderLoadsConfigAndTemplate() throws {
        let tokenizer = try CoreFixtures.smollm2.get()
        #expect(tokenizer.bosToken == "<|im_start|>")
        #expect(tokenizer.eosTokenId == 2)
        #expect(tokenizer.padToken == "<|im_end|>")
        #expect(tokenizer.unkTokenId == 0)
        #expect(tokenizer.chatTemplate?.contains("<|im_start|>") == true)
        #expect(tokenizer.vocabSize == 49152)
        #expect(tokenizer.idToToken(28120) == "hello")
        #expect(tokenizer.tokenToId("hello") == 28120)
        #expect(tokenizer.specialTokenIds.contains(1))
    }
}
