import Foundation
import Grammar
import JSON
import Testing
import Tokenizers

/// SmolLM2's tokenizer and its token index, loaded once for the suite.
enum SmolLM2 {
    static let tokenizer: Tokenizer? = try? Tokenizer.load(from: GrammarFixtures.smolLM2TokenizerPath)
    static let index: TokenIndex? = tokenizer.flatMap { try? TokenIndex(tokenizer: $0) }

    static func load() throws -> (Tokenizer, TokenIndex) {
        guard let tokenizer, let index else {
            throw FixtureError.missing("SmolLM2 tokenizer not found at \(GrammarFixtures.smolLM2TokenizerPath)")
        }
        return (tokenizer, index)
    }

    static let characterRegex =
        #"\{\n    "name": "[\w\d\s]{1,16}",\n    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n    "blood status": "(Pure-blood|Half-blood|Muggle-born)",\n    "occupation": "(student|teacher|auror|ministry of magic|death eater|order of the phoenix)",\n    "wand": \{\n        "wood": "[\w\d\s]{1,16}",\n        "core": "[\w\d\s]{1,16}",\n        "length": [0-9]{1,2}\.[0-9]{0,2}\n    \},\n    "alive": "(Alive|Deceased)",\n    "patronus": "[\w\d\s]{1,16}",\n    "bogart": "[\w\d\s]{1,16}"\n\}"#
}

@Suite struct TokenMaskTests {
    @Test func tokenBytesTable() throws {
        let (tokenizer, index) = try SmolLM2.load()
        let vocab = index.vocabulary
        #expect(vocab.encoding == .byteLevel)
        #expect(vocab.size == tokenizer.vocabSize)
        let the = try #require(tokenizer.tokenToId("Ġthe"))
        #expect(vocab.tokenBytes[the] == Array(" the".utf8))
        let newline = try #require(tokenizer.tokenToId("Ċ"))
        #expect(vocab.tokenBytes[newline] == [0x0A])
        for id in tokenizer.specialTokenIds { #expect(vocab.tokenBytes[id] == nil) }
        #expect(vocab.eosTokenIds == [try #require(tokenizer.eosTokenId)])
        // Token bytes concatenate back to the encoded text (multi-byte characters split across tokens too).
        for text in ["Hello, world!", "  {\"a\": [1, 2]}\n\t", "naïve café 東京 😀 ∑", "Ġ literally"] {
            let bytes = tokenizer.encode(text, addSpecialTokens: false).flatMap { vocab.tokenBytes[$0] ?? [] }
            #expect(bytes == Array(text.utf8), "\(text)")
        }
        // SentencePiece spelling.
        #expect(TokenVocabulary.bytes(of: "▁the", encoding: .sentencePiece) == Array(" the".utf8))
        #expect(TokenVocabulary.bytes(of: "<0x0A>", encoding: .sentencePiece) == [0x0A])
    }

    @Test func trieCoversEveryToken() throws {
        let (_, index) = try SmolLM2.load()
        // The universal DFA (any bytes) allows exactly the tokens with bytes.
        let any = try RegexCompiler.compile("[\\x00-\\U0010FFFF]*")
        let grammar = CompiledGrammar(dfa: any, index: index)
        let mask = grammar.mask(state: any.start, allowEOS: false)
        for (id, bytes) in index.vocabulary.tokenBytes.enumerated() {
            let allowed = mask[id >> 5] & (1 << UInt32(id & 31)) != 0
            // Every token of whole characters is allowed; stray continuation bytes can never start text.
            if let bytes, String(validating: bytes, as: UTF8.self) != nil { #expect(allowed, "token \(id)") }
            if bytes == nil || bytes.map({ $0[0] & 0xC0 == 0x80 || $0[0] >= 0xF5 || $0[0] == 0xC0 || $0[0] == 0xC1 }) == true {
                #expect(!allowed, "token \(id)")
            }
        }
    }

    /// For random reachable states of several grammars, every allowed token keeps the DFA alive and every
    /// disallowed one kills it (brute force over the whole vocabulary); EOS only where the DFA accepts.
    @Test func masksAgreeWithBruteForce() throws {
        let (_, index) = try SmolLM2.load()
        let eos = try #require(index.vocabulary.eosTokenIds.first)
        let regexes = [
            SmolLM2.characterRegex,
            try JSONSchemaConverter.regex(schemaText: #"{"type":"object","properties":{"name":{"type":"string","maxLength":8},"tags":{"type":"array","items":{"enum":["a","b c","日本"]}},"n":{"type":"number"}},"required":["name","n"]}"#),
            BuiltinRegex.float,
            "[αβγ]+(é|😀){2}\\d*",
        ]
        var rng = SplitMix64(seed: 7)
        var checkedStates = 0
        for regex in regexes {
            let dfa = try RegexCompiler.compile(regex)
            let grammar = CompiledGrammar(dfa: dfa, index: index)
            let sampler = DFASampler(dfa)
            var states: Set<UInt32> = [dfa.start]
            for _ in 0..<3 {
                let sample = try #require(sampler.sample(using: &rng))
                let cut = Int.random(in: 0...sample.count, using: &rng)
                states.insert(dfa.run(sample[0..<cut], from: dfa.start))
            }
            for state in states where state != ByteDFA.dead {
                let mask = grammar.mask(state: state)
                for (id, bytes) in index.vocabulary.tokenBytes.enumerated() where id != eos {
                    let allowed = mask[id >> 5] & (1 << UInt32(id & 31)) != 0
                    let alive = bytes.map { dfa.run($0, from: state) != ByteDFA.dead } ?? false
                    if allowed != alive { Issue.record("state \(state) token \(id): allowed \(allowed), alive \(alive)") }
                }
                #expect((mask[eos >> 5] & (1 << UInt32(eos & 31)) != 0) == dfa.isAccepting(state))
                // Served from the cache the second time, identical.
                #expect(grammar.isCached(state))
                #expect(grammar.mask(state: state) == mask)
                #expect(grammar.mask(state: state, allowEOS: false)[eos >> 5] & (1 << UInt32(eos & 31)) == 0)
                checkedStates += 1
            }
        }
        #expect(checkedStates >= 8)
    }

    @Test func matcherAcceptRollbackTerminate() throws {
        let (tokenizer, index) = try SmolLM2.load()
        let compiler = GrammarCompiler(index: index)
        let spec = GrammarSpec.jsonSchema(#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}"#)
        var matcher = try compiler.matcher(for: spec)
        #expect(try compiler.compile(spec) === matcher.grammar)  // cached and shared
        let eos = try #require(tokenizer.eosTokenId)
        let ids = tokenizer.encode(#"{"name": "Ada", "age": 36}"#, addSpecialTokens: false)
        var states: [UInt32] = []
        for id in ids {
            states.append(matcher.state)
            #expect(matcher.mask()[id >> 5] & (1 << UInt32(id & 31)) != 0)
            #expect(!matcher.canAccept(eos) || matcher.isAccepting)
            let ok = matcher.accept(id)
            #expect(ok)
        }
        #expect(matcher.isAccepting)
        let x = try #require(tokenizer.encode("x", addSpecialTokens: false).first)
        let acceptedX = matcher.accept(x)
        #expect(!acceptedX)
        let acceptedEOS = matcher.accept(eos)
        #expect(acceptedEOS)
        #expect(matcher.isTerminated)
        #expect(matcher.mask().allSatisfy { $0 == 0 })
        matcher.rollback(4)
        #expect(!matcher.isTerminated)
        #expect(matcher.state == states[ids.count - 3])
        #expect(matcher.tokens == Array(ids.prefix(ids.count - 3)))
        let earlyEOS = matcher.accept(eos)
        #expect(!earlyEOS)  // not accepting mid-object
        // Invalid specs are errors, cached as such.
        for bad: GrammarSpec in [.regex("(ab"), .jsonSchema("{\"type\": 3}"), .dtype("list")] {
            #expect((try? compiler.compile(bad)) == nil, "\(bad)")
        }
        #expect(try compiler.compile(.dtype("int")).dfa.matches("12 "))
        #expect(try compiler.compile(.jsonObject).dfa.matches(#"{"a": [1, {"b": null}]}"#))
    }
}

@Suite struct GrammarConcurrencyTests {
    /// Many tasks share one compiler and one compiled grammar: same masks as a single thread, one cache entry.
    @Test func sharedCompilerAndMaskCache() async throws {
        let (tokenizer, index) = try SmolLM2.load()
        let compiler = GrammarCompiler(index: index)
        let spec = GrammarSpec.regex(SmolLM2.characterRegex)
        let ids = tokenizer.encode(JumpForwardTests.character, addSpecialTokens: false)
        let reference: [[UInt32]] = try {
            var m = GrammarMatcher(grammar: CompiledGrammar(dfa: try compiler.compile(spec).dfa, index: index))
            var masks: [[UInt32]] = []
            for id in ids {
                masks.append(m.mask())
                m.accept(id)
            }
            return masks
        }()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var m = try compiler.matcher(for: spec)
                    for (i, id) in ids.enumerated() {
                        if m.mask() != reference[i] || !m.accept(id) { return false }
                    }
                    return m.isAccepting
                }
            }
            var all: [Bool] = []
            for try await ok in group { all.append(ok) }
            return all
        }
        #expect(results == Array(repeating: true, count: 8))
        #expect(compiler.cachedCount == 1)
    }
}

@Suite struct GGUFVocabularyTests {
    static let ggufPath: String? = {
        let candidates = [
            GrammarFixtures.repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path,
            (ProcessInfo.processInfo.environment["HOME"] ?? "") + "/.cache/sglang-swift/SmolLM2-135M-Instruct.Q4_1.gguf",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }()

    /// The GGUF-embedded vocabulary gives the same token bytes as the HF tokenizer.json (needs
    /// scripts/fetch-smollm2.sh to have run; skipped otherwise).
    @Test(.enabled(if: ggufPath != nil)) func ggufMatchesTokenizerJSON() throws {
        let (_, index) = try SmolLM2.load()
        let gguf = try Tokenizer.load(from: try #require(Self.ggufPath))
        let vocab = try TokenVocabulary(tokenizer: gguf)
        #expect(vocab.encoding == .byteLevel)
        #expect(vocab.size == index.vocabulary.size)
        var differing = 0
        for id in 0..<min(vocab.size, index.vocabulary.size) where vocab.tokenBytes[id] != index.vocabulary.tokenBytes[id] { differing += 1 }
        #expect(differing == 0)
        #expect(vocab.eosTokenIds == index.vocabulary.eosTokenIds)
    }
}

@Suite struct BudgetAwareMaskTests {
    /// A "model" choosing uniformly among allowed tokens still ends in an accepting state, with EOS, within
    /// the token budget when the mask knows the remaining budget; without it, it usually runs out.
    @Test func finishesWithinBudget() throws {
        let (_, index) = try SmolLM2.load()
        let eos = try #require(index.vocabulary.eosTokenIds.first)
        let regexes = [
            #"\{"name": "[a-z ]*", "tags": \["[a-z]+"(, "[a-z]+")*\]\}"#,
            try JSONSchemaConverter.regex(schemaText: #"{"type":"object","properties":{"d":{"type":"string","format":"date"},"n":{"type":"integer"}},"required":["d","n"]}"#),
            BuiltinRegex.string,
            "(a|b)*abb",
        ]
        var rng = SplitMix64(seed: 11)
        for regex in regexes {
            let grammar = CompiledGrammar(dfa: try RegexCompiler.compile(regex), index: index)
            for s in 1..<grammar.dfa.stateCount {
                #expect(grammar.tokenDistance[s] <= grammar.distanceToAccept[s])
                #expect(grammar.tokenDistance[s] >= 1 || grammar.isAccepting(UInt32(s)))
            }
            let budget = grammar.tokenDistance[Int(grammar.start)] + 8
            var finishedWithout = 0
            for trial in 0..<12 {
                for budgetAware in [true, false] {
                    var matcher = GrammarMatcher(grammar: grammar)
                    var words = [UInt32](repeating: 0, count: index.maskWords)
                    while matcher.tokens.count < budget && !matcher.isTerminated {
                        words.withUnsafeMutableBufferPointer {
                            if budgetAware {
                                matcher.fillMask(into: $0, remainingTokens: budget - matcher.tokens.count)
                            } else {
                                matcher.fillMask(into: $0)
                            }
                        }
                        var allowed: [Int] = []
                        for id in 0..<index.size where words[id >> 5] & (1 << UInt32(id & 31)) != 0 { allowed.append(id) }
                        // Prefer EOS rarely so that walks are long: the budget, not luck, must end them.
                        let pick = allowed.count > 1 ? allowed.filter { $0 != eos } : allowed
                        guard let id = pick.randomElement(using: &rng) else { break }
                        let ok = matcher.accept(id)
                        #expect(ok)
                    }
                    if budgetAware {
                        #expect(matcher.isTerminated, "\(regex) trial \(trial): \(matcher.tokens.count) tokens, not finished")
                    } else if matcher.isTerminated {
                        finishedWithout += 1
                    }
                }
            }
            #expect(finishedWithout < 12, "\(regex): random walks finish anyway; the test proves nothing")
        }
    }
}
