import Bench
import Foundation
import JSON
import Runtime
import Testing
import Tokenizers

@Suite struct BenchDatasetTests {
    static func smolTokenizer() throws -> Tokenizer {
        try Tokenizer.load(from: try BenchFixtures.shared("smollm2/hf-tokenizer"))
    }

    static func ids(_ row: DatasetRow) -> [Int] {
        if case .ids(let ids) = row.prompt { return ids }
        Issue.record("expected token ids, found text")
        return []
    }

    @Test func randomLengthsStayInSGLangsRange() throws {
        var o = BenchDatasetOptions()
        o.name = .random
        o.numPrompts = 300
        o.randomInputLen = 40
        o.randomOutputLen = 10
        o.randomRangeRatio = 0.5
        let rows = try BenchDatasetBuilder(tokenizer: nil, vocabSize: 512).build(o)
        #expect(rows.count == 300)
        for row in rows {
            let ids = Self.ids(row)
            #expect((20...40).contains(row.promptLen))
            #expect(ids.count == row.promptLen)
            #expect(ids.allSatisfy { (0..<512).contains($0) })
            #expect((5...10).contains(row.outputLen))
        }
        // Uniform draws over 21 and 6 values: 300 rows reach both ends of each range.
        #expect(Set(rows.map(\.promptLen)).isSuperset(of: [20, 40]))
        #expect(Set(rows.map(\.outputLen)) == Set(5...10))
        // Ratio 0 still keeps every length ≥ 1; ratio 1 fixes them.
        o.randomRangeRatio = 0
        o.randomInputLen = 3
        o.randomOutputLen = 1
        #expect(try BenchDatasetBuilder(tokenizer: nil, vocabSize: 512).build(o).allSatisfy {
            (1...3).contains($0.promptLen) && $0.outputLen == 1
        })
        o.randomRangeRatio = 1
        o.randomInputLen = 7
        #expect(try BenchDatasetBuilder(tokenizer: nil, vocabSize: 512).build(o).allSatisfy { $0.promptLen == 7 })
    }

    @Test func seedFixesTheRows() throws {
        var o = BenchDatasetOptions()
        o.name = .random
        o.numPrompts = 20
        o.randomInputLen = 30
        o.randomOutputLen = 8
        let builder = BenchDatasetBuilder(tokenizer: nil, vocabSize: 512)
        let a = try builder.build(o)
        #expect(try builder.build(o) == a)
        o.seed = 2
        #expect(try builder.build(o) != a)
    }

    @Test func randomTextIsTheDecodedIdsWithoutSpecialTokens() throws {
        let tokenizer = try Self.smolTokenizer()
        var o = BenchDatasetOptions()
        o.name = .random
        o.numPrompts = 8
        o.randomInputLen = 64
        o.randomOutputLen = 4
        o.randomRangeRatio = 1
        o.tokenizePrompt = true
        let builder = BenchDatasetBuilder(tokenizer: tokenizer, vocabSize: tokenizer.vocabSize)
        let asIds = try builder.build(o)
        o.tokenizePrompt = false
        let asText = try builder.build(o)
        let special = tokenizer.specialTokenIds
        #expect(!special.isEmpty)
        for (idRow, textRow) in zip(asIds, asText) {
            let ids = Self.ids(idRow)
            #expect(ids.count == 64)
            #expect(!ids.contains(where: special.contains))
            #expect(textRow.text == tokenizer.decode(ids))
            #expect(textRow.promptLen == 64)
        }
    }

    @Test func sharedPrefixGroupsWithoutTokenizer() throws {
        var o = BenchDatasetOptions()
        o.name = .generatedSharedPrefix
        o.gspNumGroups = 4
        o.gspPromptsPerGroup = 5
        o.gspSystemPromptLen = 30
        o.gspQuestionLen = 6
        o.gspOutputLen = 9
        let rows = try BenchDatasetBuilder(tokenizer: nil, vocabSize: 512).build(o)
        #expect(rows.count == 20)
        var byGroup: [Int: [[Int]]] = [:]
        for row in rows {
            let ids = Self.ids(row)
            #expect(row.promptLen == 36 && ids.count == 36)
            #expect(row.outputLen == 9)
            byGroup[row.group ?? -1, default: []].append(ids)
        }
        #expect(byGroup.keys.sorted() == [0, 1, 2, 3])
        let prefixes = try byGroup.keys.sorted().map { group -> [Int] in
            let prompts = try #require(byGroup[group])
            #expect(prompts.count == 5)
            let prefix = Array(prompts[0].prefix(30))
            #expect(prompts.allSatisfy { Array($0.prefix(30)) == prefix })
            #expect(Set(prompts.map { Array($0.suffix(6)) }).count == 5)
            return prefix
        }
        #expect(Set(prefixes).count == 4)
        // Shuffled: not in group order (20 rows in 4 sorted runs would be a 1-in-~10^10 shuffle).
        #expect(rows.map { $0.group ?? -1 } != rows.map { $0.group ?? -1 }.sorted())
    }

    @Test func sharedPrefixTextKeepsTheCacheablePrefix() throws {
        let tokenizer = try Self.smolTokenizer()
        var o = BenchDatasetOptions()
        o.name = .generatedSharedPrefix
        o.gspNumGroups = 2
        o.gspPromptsPerGroup = 3
        o.gspSystemPromptLen = 200
        o.gspQuestionLen = 16
        o.gspOutputLen = 4
        let rows = try BenchDatasetBuilder(tokenizer: tokenizer, vocabSize: tokenizer.vocabSize).build(o)
        #expect(rows.count == 6)
        for group in 0..<2 {
            let texts = rows.filter { $0.group == group }.compactMap(\.text)
            #expect(texts.count == 3)
            let systems = Set(texts.map { $0.components(separatedBy: "\n\n").first ?? "" })
            #expect(systems.count == 1)
            let encoded = texts.map { tokenizer.encode($0) }
            for (row, ids) in zip(rows.filter { $0.group == group }, encoded) { #expect(row.promptLen == ids.count) }
            // The prompts share their token prefix up to (about) the system prompt's end: what the radix cache reuses.
            let common = zip(encoded[0], encoded[1]).prefix { $0 == $1 }.count
            #expect(common >= 190, "common token prefix \(common)")
        }
    }

    @Test func shareGPTFiltersAsSGLangDoes() throws {
        let tokenizer = try Self.smolTokenizer()
        func turn(_ v: String) -> JSONValue { .object(JSONObject([("from", .string("human")), ("value", .string(v))])) }
        let conversations: [JSONValue] = [
            .object(JSONObject([("conversations", .array([turn("What is the capital of France?"), turn("Paris is the capital.")]))])),
            .object(JSONObject([("conversations", .array([turn("Only one turn here")]))])),
            .object(JSONObject([("conversation", .array([turn("Tell me a story about a dragon"), turn("Once upon a time there was a dragon."), turn("more")]))])),
            .object(JSONObject([("conversations", .array([turn("Hi"), turn("Hello there, how can I help?")]))])),
            .object(JSONObject([("conversations", .array([turn("Explain gravity in simple words"), turn("Ok")]))])),
            .object(JSONObject([("id", .string("no turns"))])),
        ]
        let path = BenchFixtures.temporaryPath("sharegpt.json")
        try JSONValue.array(conversations).serialized(.compact).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let pairs = try BenchDatasetBuilder.shareGPTPairs(path: path)
        #expect(pairs.map(\.0) == ["What is the capital of France?", "Tell me a story about a dragon", "Hi",
                                   "Explain gravity in simple words"])
        // Independent filter: both sides must encode to ≥ 2 tokens.
        let keep = pairs.filter { tokenizer.encode($0.0).count >= 2 && tokenizer.encode($0.1).count >= 2 }
        var o = BenchDatasetOptions()
        o.name = .sharegpt
        o.path = path
        o.numPrompts = 10
        let builder = BenchDatasetBuilder(tokenizer: tokenizer, vocabSize: tokenizer.vocabSize)
        let rows = try builder.build(o)
        #expect(Set(rows.compactMap(\.text)) == Set(keep.map(\.0)))
        for row in rows {
            let reply = try #require(keep.first { $0.0 == row.text }).1
            #expect(row.promptLen == tokenizer.encode(row.text ?? "").count)
            #expect(row.outputLen == tokenizer.encode(reply).count)
        }
        o.numPrompts = 1
        #expect(try builder.build(o).count == 1)
        o.numPrompts = 10
        o.sharegptOutputLen = 50
        o.sharegptContextLen = 58
        let fixed = try builder.build(o)
        #expect(fixed.allSatisfy { $0.outputLen == 50 && $0.promptLen + 50 <= 58 })
        // With a fixed output length only the prompt length and the context filter apply.
        #expect(fixed.count == pairs.filter { pair in
            let n = tokenizer.encode(pair.0).count
            return n >= 2 && n + 50 <= 58
        }.count)
    }

    @Test func badOptionsAreRejected() throws {
        let builder = BenchDatasetBuilder(tokenizer: nil, vocabSize: 512)
        var o = BenchDatasetOptions()
        o.name = .sharegpt
        #expect(throws: BenchError.self) { try builder.build(o) }
        o.path = "/nonexistent/sharegpt.json"
        #expect(throws: BenchError.self) { try builder.build(o) }
        o.name = .random
        o.randomInputLen = 0
        #expect(throws: BenchError.self) { try builder.build(o) }
        o.randomInputLen = 8
        o.randomRangeRatio = 1.5
        #expect(throws: BenchError.self) { try builder.build(o) }
    }
}
