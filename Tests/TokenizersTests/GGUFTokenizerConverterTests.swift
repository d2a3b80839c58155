import Foundation
import GGUF
import JSON
import Testing
@testable import Tokenizers

/// The converter's tokenizer.json must be the one transformers builds from the same GGUF file.
@Suite struct GGUFTokenizerConverterTests {
    /// Compares two tokenizer.json values section by section, so a failure names the section.
    private func expectSameTokenizerJSON(_ actual: JSONValue, _ expected: JSONValue, _ name: String) {
        for key in ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer",
                    "post_processor", "decoder"] {
            #expect(actual[key] == expected[key], "\(name): \(key)")
        }
        let actualModel = actual["model"]?.objectValue
        let expectedModel = expected["model"]?.objectValue
        #expect(actualModel?.keys.sorted() == expectedModel?.keys.sorted(), "\(name): model keys")
        for key in expectedModel?.keys ?? [] where key != "merges" {
            #expect(actualModel?[key] == expectedModel?[key], "\(name): model.\(key)")
        }
        let actualMerges = actual["model"]?["merges"]?.arrayValue ?? []
        let expectedMerges = expected["model"]?["merges"]?.arrayValue ?? []
        #expect(actualMerges.count == expectedMerges.count, "\(name): merge count")
        if let first = zip(actualMerges, expectedMerges).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            Issue.record("\(name): merge \(first.offset) is \(first.element.0), expected \(first.element.1)")
        }
        #expect(actual == expected, "\(name): whole tokenizer.json")
    }

    @Test func smolLM2MatchesTransformersTokenizerJSON() throws {
        let file = try GGUFFile(path: try GGUFFixtures.smollm2GGUF())
        let (tokenizer, config, template) = try GGUFTokenizerConverter.convert(file)
        let expected = try GGUFFixtures.json(try GGUFFixtures.shared("smollm2/hf-tokenizer/tokenizer.json"))
        expectSameTokenizerJSON(tokenizer, expected, "SmolLM2")

        let expectedConfig = try GGUFFixtures.json(try GGUFFixtures.shared("smollm2/hf-tokenizer/tokenizer_config.json"))
        for key in ["bos_token", "eos_token", "unk_token", "pad_token"] {
            #expect(config[key] == expectedConfig[key], "config \(key)")
        }
        #expect(config["add_bos_token"] == .bool(false))
        let expectedTemplate = try String(
            contentsOfFile: try GGUFFixtures.shared("smollm2/hf-tokenizer/chat_template.jinja"), encoding: .utf8)
        #expect(template == expectedTemplate)
    }

    @Test(arguments: GGUFFixtures.syntheticNames)
    func syntheticVocabularyMatchesTransformersTokenizerJSON(name: String) throws {
        let file = try GGUFFile(path: try GGUFFixtures.resource("\(name).gguf"))
        let (tokenizer, config, template) = try GGUFTokenizerConverter.convert(file)
        let expected = try GGUFFixtures.json(try GGUFFixtures.resource("\(name).tokenizer.json"))
        expectSameTokenizerJSON(tokenizer, expected, name)

        let expectedConfig = try GGUFFixtures.json(try GGUFFixtures.resource("\(name).tokenizer_config.json"))
        for key in ["bos_token", "eos_token", "unk_token", "pad_token"] {
            let want = expectedConfig[key] ?? .null
            #expect((config[key] ?? .null) == want, "\(name): config \(key)")
        }
        #expect(config["add_bos_token"] == expectedConfig["add_bos_token"], "\(name): add_bos_token")
        #expect(config["add_eos_token"] == expectedConfig["add_eos_token"], "\(name): add_eos_token")
        #expect(template == expectedConfig["chat_template"]?.stringValue, "\(name): chat template")
    }

    @Test func generatedMergesFollowScoresThenLengths() {
        // "ab" (score -1) and "abc" (score -2): "abc" splits as a+bc and ab+c; higher scores merge first,
        // and among a token's splits the ones with lower vocabulary ids come first.
        let tokens = ["a", "b", "c", "ab", "bc", "abc"]
        let scores: [Double] = [0, 0, 0, -1, -3, -2]
        let merges = GGUFTokenizerJSONBuilder.generatedMerges(tokens: tokens, scores: scores)
        #expect(merges.map { "\($0.0) \($0.1)" } == ["a b", "ab c", "a bc", "b c"])
    }

    @Test func rejectsUnsupportedModelAndMissingVocabulary() throws {
        let unsupported = GGUFBytes.file(metadata: [
            ("general.architecture", .string("t5")), ("tokenizer.ggml.model", .string("t5")),
            ("tokenizer.ggml.tokens", .stringArray(["a"])),
        ])
        #expect(throws: TokenizerError.self) { try GGUFTokenizerConverter.convert(try GGUFFile(bytes: unsupported)) }
        let noTokens = GGUFBytes.file(metadata: [
            ("general.architecture", .string("llama")), ("tokenizer.ggml.model", .string("llama")),
        ])
        #expect(throws: TokenizerError.self) { try GGUFTokenizerConverter.convert(try GGUFFile(bytes: noTokens)) }
        let badBos = GGUFBytes.file(metadata: [
            ("general.architecture", .string("llama")), ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.tokens", .stringArray(["a", "b"])), ("tokenizer.ggml.merges", .stringArray(["a b"])),
            ("tokenizer.ggml.bos_token_id", .uint32(7)),
        ])
        #expect(throws: TokenizerError.self) { try GGUFTokenizerConverter.convert(try GGUFFile(bytes: badBos)) }
    }
}

/// A minimal GGUF writer for metadata-only test files.
enum GGUFBytes {
    enum Value {
        case string(String)
        case uint32(UInt32)
        case bool(Bool)
        case stringArray([String])
    }

    static func file(metadata: [(String, Value)]) -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        append(UInt32(3), to: &out)
        append(UInt64(0), to: &out)
        append(UInt64(metadata.count), to: &out)
        for (key, value) in metadata {
            appendString(key, to: &out)
            switch value {
            case .string(let s):
                append(UInt32(8), to: &out)
                appendString(s, to: &out)
            case .uint32(let v):
                append(UInt32(4), to: &out)
                append(v, to: &out)
            case .bool(let b):
                append(UInt32(7), to: &out)
                out.append(b ? 1 : 0)
            case .stringArray(let items):
                append(UInt32(9), to: &out)
                append(UInt32(8), to: &out)
                append(UInt64(items.count), to: &out)
                for item in items { appendString(item, to: &out) }
            }
        }
        return out
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendString(_ s: String, to out: inout [UInt8]) {
        append(UInt64(s.utf8.count), to: &out)
        out.append(contentsOf: s.utf8)
    }
}
