import Foundation
import JSON
import Testing
@testable import Tokenizers

/// SmolLM2 (byte-level BPE, GPT-2 split) against the HF oracle in ../shared/fixtures/smollm2.
@Suite struct SmolLM2TokenizerTests {
    @Test func tokenizeFixtureIdsAndDecode() throws {
        let tokenizer = try CoreFixtures.smollm2.get()
        let rows = try CoreFixtures.jsonLines("smollm2/tokenize.jsonl")
        #expect(rows.count > 200)
        for row in rows {
            let text = try #require(row["text"]?.stringValue)
            let expected = try #require(row["ids"]?.arrayValue).compactMap(\.intValue)
            let decoded = try #require(row["decoded"]?.stringValue)
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            #expect(ids == expected, "ids of \(text.debugDescription)")
            #expect(tokenizer.decode(expected) == decoded, "decode of \(text.debugDescription)")
        }
    }

    /// Random strings (Resources/core/smollm2_random.jsonl, HF ids) through the fast path and through the
    /// generic String pipeline (ByteLevel pre-tokenizer + BPEModel), which must agree.
    @Test func randomStringsMatchHFOnFastAndGenericPaths() throws {
        let tokenizer = try CoreFixtures.smollm2.get()
        #expect(tokenizer.fastEncoder != nil)
        let text = try String(contentsOfFile: try CoreFixtures.resource("core/smollm2_random.jsonl"), encoding: .utf8)
        let rows = try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(rows.count >= 1000)
        let pre = try #require(tokenizer.preTokenizer)
        let bpe = try #require(tokenizer.model as? BPEModel)
        for row in rows {
            let s = try #require(row["text"]?.stringValue)
            let expected = try #require(row["ids"]?.arrayValue).compactMap(\.intValue)
            #expect(tokenizer.encode(s, addSpecialTokens: false) == expected, "\(s.debugDescription)")
            var generic: [Int] = []
            for segment in tokenizer.addedVocabulary.split(s, normalizer: nil) {
                switch segment {
                case .token(let id): generic.append(id)
                case .text(let t, let atStart):
                    for piece in pre.preTokenize([PreToken(text: t, atTextStart: atStart)]) { bpe.tokenize(piece.text, into: &generic) }
                }
            }
            #expect(generic == expected, "generic \(s.debugDescription)")
        }
    }

    /// Streaming: for every fixture row, the concatenated pieces equal `decode(ids)`, and no piece ends in
    /// half a character.
    @Test func streamingEqualsDecode() throws {
        let tokenizer = try CoreFixtures.smollm2.get()
        for row in try CoreFixtures.jsonLines("smollm2/tokenize.jsonl") {
            let ids = try #require(row["ids"]?.arrayValue).compactMap(\.intValue)
            for skip in [false, true] {
                var detok = tokenizer.makeIncrementalDetokenizer(skipSpecialTokens: skip)
                var out = ""
                for id in ids {
                    let piece = detok.append(id)
                    #expect(!piece.unicodeScalars.contains("\u{FFFD}") || tokenizer.decode(ids).unicodeScalars.contains("\u{FFFD}"))
                    out += piece
                }
                out += detok.finish()
                #expect(out == tokenizer.decode(ids, skipSpecialTokens: skip))
            }
        }
    }

    /// 10,000 random strings (leniently decoded random bytes; random Unicode with combining marks and emoji)
    /// never crash and round-trip through encode and decode. SmolLM2's vocabulary lacks 21 byte tokens (six
    /// ASCII controls such as U+0004, the lead bytes of planes 4-15, and bytes UTF-8 never uses); HF drops
    /// those bytes too, so round-trips are checked on the input without the characters that need them.
    @Test func randomRoundTrip() throws {
        let tokenizer = try CoreFixtures.smollm2.get()
        let missing = Set((0..<256).filter { tokenizer.tokenToId(String(ByteLevelAlphabet.byteToScalar[$0])) == nil }.map(UInt8.init))
        #expect(missing.count == 21)
        var rng = SplitMix64(seed: 42)
        let pools: [ClosedRange<UInt32>] = [0x20...0x7E, 0x00...0x7F, 0xA0...0x24F, 0x300...0x36F, 0x370...0x52F,
                                            0x590...0x6FF, 0x900...0x97F, 0xE00...0xE7F, 0x3040...0x30FF,
                                            0x4E00...0x9FFF, 0xAC00...0xD7A3, 0x1F300...0x1FAFF, 0x2000...0x206F,
                                            0x1D400...0x1D7FF, 0xFE00...0xFE0F]
        var failures = 0
        for i in 0..<10_000 {
            let length = Int(rng.next() % 48)
            let raw: String
            if i % 2 == 0 {
                let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                raw = String(decoding: bytes, as: UTF8.self)
            } else {
                var scalars = String.UnicodeScalarView()
                for _ in 0..<length {
                    let pool = pools[Int(rng.next() % UInt64(pools.count))]
                    let v = pool.lowerBound + UInt32(rng.next() % UInt64(pool.count))
                    if let scalar = Unicode.Scalar(v) { scalars.append(scalar) }
                }
                raw = String(scalars)
            }
            _ = tokenizer.decode(tokenizer.encode(raw))
            var kept = String.UnicodeScalarView()
            kept.append(contentsOf: raw.unicodeScalars.filter { !$0.utf8.contains(where: missing.contains) })
            let s = String(kept)
            if tokenizer.decode(tokenizer.encode(s, addSpecialTokens: false)) != s {
                failures += 1
                if failures < 5 { Issue.record("round trip failed for \(s.debugDescription)") }
            }
        }
        #expect(failures == 0)
    }
}

/// A small deterministic PRNG for reproducible random tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
