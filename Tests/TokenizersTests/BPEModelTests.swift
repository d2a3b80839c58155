import Foundation
import JSON
import Testing
@testable import Tokenizers

/// BPEModel against a naive string-based reference BPE (repeatedly merge the lowest-rank adjacent pair,
/// leftmost first) on random words, plus the model options.
@Suite struct BPEModelTests {
    static let letters = ["a", "b", "c", "d"]
    /// All merges over a 4-letter alphabet up to length 4 tokens, in a shuffled rank order.
    static func makeMerges() -> [(String, String)] {
        var rng = SplitMix64(seed: 7)
        var tokens = letters
        var merges: [(String, String)] = []
        var seen = Set(tokens)
        for _ in 0..<60 {
            let a = tokens[Int(rng.next() % UInt64(tokens.count))]
            let b = tokens[Int(rng.next() % UInt64(tokens.count))]
            let m = a + b
            if m.count > 4 || merges.contains(where: { $0 == (a, b) }) { continue }
            merges.append((a, b))
            if seen.insert(m).inserted { tokens.append(m) }
        }
        return merges
    }

    static func modelJSON(merges: [(String, String)], extra: [(String, JSONValue)] = []) -> JSONValue {
        var vocab: [String] = letters
        for (a, b) in merges where !vocab.contains(a + b) { vocab.append(a + b) }
        let vocabObject = JSONObject(vocab.enumerated().map { ($0.element, JSONValue.int($0.offset)) })
        let mergeArray = merges.map { JSONValue.array([.string($0.0), .string($0.1)]) }
        return .object(JSONObject([("type", .string("BPE")), ("vocab", .object(vocabObject)),
                                   ("merges", .array(mergeArray))] + extra))
    }

    static func reference(_ word: String, merges: [(String, String)]) -> [String] {
        var symbols = word.map(String.init)
        while symbols.count > 1 {
            var best: (rank: Int, at: Int)? = nil
            for i in 0..<(symbols.count - 1) {
                if let r = merges.firstIndex(where: { $0 == (symbols[i], symbols[i + 1]) }), best == nil || r < best!.rank {
                    best = (r, i)
                }
            }
            guard let b = best else { break }
            symbols[b.at] += symbols[b.at + 1]
            symbols.remove(at: b.at + 1)
        }
        return symbols
    }

    @Test func mergesMatchReferenceOnRandomWords() throws {
        let merges = Self.makeMerges()
        let model = try BPEModel(json: Self.modelJSON(merges: merges))
        var rng = SplitMix64(seed: 11)
        for length in [1, 2, 3, 5, 8, 13, 30, 47, 48, 49, 64, 120, 300] {
            for _ in 0..<20 {
                let word = (0..<length).map { _ in Self.letters[Int(rng.next() % 4)] }.joined()
                var ids: [Int] = []
                model.tokenize(word, into: &ids)
                let expected = Self.reference(word, merges: merges).compactMap(model.tokenToId)
                #expect(ids == expected, "\(word)")
            }
        }
    }

    @Test func legacyStringMergesEqualPairMerges() throws {
        let merges = Self.makeMerges()
        var json = Self.modelJSON(merges: merges)
        if case .object(var o) = json {
            o["merges"] = .array(merges.map { .string("\($0.0) \($0.1)") })
            json = .object(o)
        }
        let a = try BPEModel(json: json)
        let b = try BPEModel(json: Self.modelJSON(merges: merges))
        var x: [Int] = []
        var y: [Int] = []
        a.tokenize("abcdabcdaabbccdd", into: &x)
        b.tokenize("abcdabcdaabbccdd", into: &y)
        #expect(x == y)
    }

    @Test func ignoreMergesEmitsWholeVocabWords() throws {
        // "abc" is in the vocab but the merges would give "ab"+"c" without ignore_merges.
        let merges = [("a", "b"), ("b", "c"), ("a", "bc")]
        let plain = try BPEModel(json: Self.modelJSON(merges: merges))
        let ignoring = try BPEModel(json: Self.modelJSON(merges: merges, extra: [("ignore_merges", .bool(true))]))
        var x: [Int] = []
        var y: [Int] = []
        plain.tokenize("abc", into: &x)
        ignoring.tokenize("abc", into: &y)
        #expect(x.compactMap(plain.idToToken) == ["ab", "c"])
        #expect(y.compactMap(ignoring.idToToken) == ["abc"])
    }

    @Test func unknownsFuseAndByteFallback() throws {
        var vocab: [(String, JSONValue)] = [("<unk>", .int(0)), ("a", .int(1)), ("b", .int(2))]
        for b in 0..<256 { vocab.append((BPEModel.byteFallbackToken(UInt8(b)), .int(3 + b))) }
        func model(_ extra: [(String, JSONValue)]) throws -> BPEModel {
            try BPEModel(json: .object(JSONObject([("type", .string("BPE")), ("vocab", .object(JSONObject(vocab))),
                                                    ("merges", .array([])), ("unk_token", .string("<unk>"))] + extra)))
        }
        var ids: [Int] = []
        try model([("fuse_unk", .bool(true))]).tokenize("axyb", into: &ids)
        #expect(ids == [1, 0, 2])
        ids = []
        try model([("fuse_unk", .bool(false))]).tokenize("axyb", into: &ids)
        #expect(ids == [1, 0, 0, 2])
        ids = []
        try model([("byte_fallback", .bool(true))]).tokenize("a€", into: &ids)
        #expect(ids == [1, 3 + 0xE2, 3 + 0x82, 3 + 0xAC])
        #expect(BPEModel.byteFallbackToken(0x0A) == "<0x0A>")
    }

    @Test func mergeOutsideVocabIsAnError() throws {
        let json = JSONValue.object(JSONObject([("type", .string("BPE")),
                                                ("vocab", .object(JSONObject([("a", .int(0)), ("b", .int(1))]))),
                                                ("merges", .array([.string("a b")]))]))
        #expect(throws: TokenizerError.self) { try BPEModel(json: json) }
    }
}
