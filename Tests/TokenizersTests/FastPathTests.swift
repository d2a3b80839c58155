import Foundation
import JSON
import Synchronization
import Testing
@testable import Tokenizers

/// The byte-level fast path against the generic String pipeline (Split/ByteLevel pre-tokenizers + BPEModel)
/// on the Llama-3 (ignore_merges), Qwen2 (NFC) and GPT-2 tokenizers of Resources/hf, over the real and
/// random strings of Resources/core/scanner_splits.jsonl. HF parity of these tokenizers is checked by
/// HFComponentFixtureTests; this checks that the two paths agree everywhere else.
@Suite struct FastPathTests {
    @Test(arguments: ["llama3", "qwen2", "gpt2-roberta"])
    func fastPathEqualsGenericPipeline(_ name: String) throws {
        let tokenizer = try Tokenizer.load(from: try CoreFixtures.resource("hf/\(name)/tokenizer.json"))
        let fast = try #require(tokenizer.fastEncoder, "\(name) should take the byte-level fast path")
        let pre = try #require(tokenizer.preTokenizer)
        let bpe = try #require(tokenizer.model as? BPEModel)
        let text = try String(contentsOfFile: try CoreFixtures.resource("core/scanner_splits.jsonl"), encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") {
            let s = try #require(try JSONValue.parse(String(line))["text"]?.stringValue)
            var viaFast: [Int] = []
            var viaGeneric: [Int] = []
            for segment in tokenizer.addedVocabulary.split(s, normalizer: tokenizer.normalizer) {
                switch segment {
                case .token(let id):
                    viaFast.append(id)
                    viaGeneric.append(id)
                case .text(let t, let atStart):
                    fast.withState { fast.encode(t, into: &viaFast, state: &$0) }
                    for piece in pre.preTokenize([PreToken(text: t, atTextStart: atStart)]) {
                        bpe.tokenize(piece.text, into: &viaGeneric)
                    }
                }
            }
            #expect(viaFast == viaGeneric, "\(name) \(s.debugDescription)")
            #expect(tokenizer.encode(s, addSpecialTokens: false) == viaFast)
            checked += 1
        }
        #expect(checked >= 1500)
    }

    /// One shared tokenizer encoding from several threads at once gives the sequential results (each caller
    /// gets its own word cache from the pool).
    @Test func concurrentEncodesAgree() throws {
        let tokenizer = try CoreFixtures.smollm2.get()
        let text = try String(contentsOfFile: try CoreFixtures.resource("core/scanner_splits.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n").prefix(400).map(String.init)
        let expected = lines.map { tokenizer.encode($0) }
        let results = Mutex<[Int: [[Int]]]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let ids = lines.map { tokenizer.encode($0) }
            results.withLock { $0[worker] = ids }
        }
        let all = results.withLock { $0 }
        #expect(all.count == 8)
        for (_, ids) in all { #expect(ids == expected) }
    }

    @Test func tokenizersWithOtherShapesUseTheGenericPath() throws {
        for name in ["llama2-legacy", "llama2-metaspace", "bert", "unigram"] {
            let tokenizer = try Tokenizer.load(from: try CoreFixtures.resource("hf/\(name)/tokenizer.json"))
            #expect(tokenizer.fastEncoder == nil, "\(name)")
        }
    }

    /// Streaming with the prompt as context: SentencePiece's strip of the sequence's first space must not
    /// eat the space of the first generated token.
    @Test func streamingWithContextKeepsTheFirstSpace() throws {
        let tokenizer = try Tokenizer.load(from: try CoreFixtures.resource("core/sp_metaspace/tokenizer.json"))
        let prompt = tokenizer.encode("hello world", addSpecialTokens: false)
        let all = tokenizer.encode("hello world the theory thing", addSpecialTokens: false)
        #expect(Array(all.prefix(prompt.count)) == prompt)
        let generated = Array(all.dropFirst(prompt.count))
        var detok = tokenizer.makeIncrementalDetokenizer(context: prompt)
        var out = ""
        for id in generated { out += detok.append(id) }
        out += detok.finish()
        #expect(out == " the theory thing")
        #expect(tokenizer.decode(prompt) + out == tokenizer.decode(all))
    }

    /// A multi-byte character split across tokens is held back until complete.
    @Test func streamingHoldsBackIncompleteCharacters() throws {
        let tokenizer = try CoreFixtures.smollm2.get()
        let ids = tokenizer.encode("a😀b", addSpecialTokens: false)
        var detok = tokenizer.makeIncrementalDetokenizer()
        var pieces: [String] = []
        for id in ids { pieces.append(detok.append(id)) }
        pieces.append(detok.finish())
        #expect(pieces.joined() == "a😀b")
        #expect(pieces.allSatisfy { !$0.unicodeScalars.contains("\u{FFFD}") })
        #expect(pieces.contains("😀") || pieces.contains { $0.hasSuffix("😀") } || pieces.contains { $0.hasPrefix("😀") })
    }
}
