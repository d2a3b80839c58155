import Grammar
import JSON
import Testing
import Tokenizers

@Suite struct JumpForwardTests {
    /// Generation driven by a stand-in model that always picks the longest allowed token continuing `target`;
    /// with jump-forward, forced text is appended without a model step. Returns (model steps, tokens).
    static func simulate(_ grammar: CompiledGrammar, tokenizer: Tokenizer, target: String, jump: Bool) throws -> (steps: Int, jumps: Int, tokens: [Int]) {
        let vocab = grammar.index.vocabulary
        let targetBytes = Array(target.utf8)
        var matcher = GrammarMatcher(grammar: grammar)
        var steps = 0, jumps = 0
        var produced: [UInt8] = []
        while produced != targetBytes {
            if jump, let result = matcher.jumpForward(tokenizer: tokenizer) {
                jumps += 1
                #expect(result.tokens.flatMap { vocab.tokenBytes[$0] ?? [] }.suffix(result.forcedText.utf8.count) == Array(result.forcedText.utf8)[...])
            } else {
                let mask = matcher.mask()
                let remaining = targetBytes[produced.count...]
                var best = -1, bestLength = 0
                for (id, bytes) in vocab.tokenBytes.enumerated() {
                    guard let bytes, bytes.count > bestLength, mask[id >> 5] & (1 << UInt32(id & 31)) != 0,
                          remaining.starts(with: bytes) else { continue }
                    best = id
                    bestLength = bytes.count
                }
                guard best >= 0 else { throw FixtureError(description: "no allowed token continues the target at \(produced.count)") }
                let accepted = matcher.accept(best)
                #expect(accepted)
                steps += 1
            }
            produced = matcher.tokens.flatMap { vocab.tokenBytes[$0] ?? [] }
            #expect(targetBytes.starts(with: produced))
            if steps > 10_000 { break }
        }
        #expect(matcher.isAccepting)
        let eos = try #require(tokenizer.eosTokenId)
        #expect(matcher.canAccept(eos))
        steps += 1  // the step that samples EOS
        return (steps, jumps, matcher.tokens)
    }

    static let character = #"""
    {
        "name": "Harry Potter",
        "house": "Gryffindor",
        "blood status": "Half-blood",
        "occupation": "student",
        "wand": {
            "wood": "Holly",
            "core": "Phoenix feather",
            "length": 11.0
        },
        "alive": "Alive",
        "patronus": "Stag",
        "bogart": "Dementor"
    }
    """#

    @Test func characterRegexForcedText() throws {
        let (tokenizer, index) = try SmolLM2.load()
        let grammar = CompiledGrammar(dfa: try RegexCompiler.compile(SmolLM2.characterRegex), index: index)
        var matcher = GrammarMatcher(grammar: grammar)
        #expect(matcher.forcedText() == "{\n    \"name\": \"")
        let firstResult = matcher.jumpForward(tokenizer: tokenizer)
        let first = try #require(firstResult)
        #expect(first.rollback == 0)
        #expect(tokenizer.decode(first.tokens) == "{\n    \"name\": \"")
        #expect(matcher.forcedText() == "")  // the name is the model's choice
        for id in tokenizer.encode("Harry", addSpecialTokens: false) { let ok = matcher.accept(id); #expect(ok) }
        #expect(matcher.forcedText() == "")  // the name may go on
        for id in tokenizer.encode("\"", addSpecialTokens: false) { let ok = matcher.accept(id); #expect(ok) }
        #expect(matcher.forcedText() == ",\n    \"house\": \"")
        // An enum prefix forces the rest of the member.
        let before = matcher.tokens.count
        let jumpResult = matcher.jumpForward(tokenizer: tokenizer)
        let jump = try #require(jumpResult)
        #expect(jump.forcedText == ",\n    \"house\": \"")
        #expect(matcher.tokens.count == before - jump.rollback + jump.tokens.count)
        for id in tokenizer.encode("Sl", addSpecialTokens: false) { let ok = matcher.accept(id); #expect(ok) }
        #expect(matcher.forcedText() == "ytherin\",\n    \"blood status\": \"")
    }

    /// Jump-forward on the Harry Potter `character_regex`: the same text with far fewer model steps, and
    /// the final tokens decode to the target.
    @Test func characterRegexSavesSteps() throws {
        let (tokenizer, index) = try SmolLM2.load()
        let grammar = CompiledGrammar(dfa: try RegexCompiler.compile(SmolLM2.characterRegex), index: index)
        #expect(grammar.dfa.matches(Self.character))
        let plain = try Self.simulate(grammar, tokenizer: tokenizer, target: Self.character, jump: false)
        let jumped = try Self.simulate(grammar, tokenizer: tokenizer, target: Self.character, jump: true)
        #expect(tokenizer.decode(jumped.tokens) == Self.character)
        #expect(tokenizer.decode(plain.tokens) == Self.character)
        #expect(Double(plain.steps) >= 2.0 * Double(jumped.steps), "steps \(plain.steps) vs \(jumped.steps)")
        print("character_regex: \(plain.steps) model steps without jump-forward, \(jumped.steps) with (\(jumped.jumps) jumps)")
    }

    /// A fixed-key JSON schema (keys and enum values forced). With outlines' optional-space whitespace the
    /// chains break at every `[ ]?`; with compact whitespace whole key runs are forced.
    @Test func fixedKeySchemaSavesSteps() throws {
        let (tokenizer, index) = try SmolLM2.load()
        let schema = #"{"type":"object","properties":{"name":{"type":"string"},"house":{"enum":["Gryffindor","Slytherin","Ravenclaw","Hufflepuff"]},"blood_status":{"enum":["Pure-blood","Half-blood","Muggle-born"]},"year":{"type":"integer"},"wand":{"type":"object","properties":{"wood":{"type":"string"},"core":{"type":"string"}},"required":["wood","core"]}},"required":["name","house","blood_status","year","wand"]}"#
        for (ws, target, factor) in [
            ("", #"{"name":"Hermione Granger","house":"Gryffindor","blood_status":"Muggle-born","year":5,"wand":{"wood":"Vine","core":"Dragon heartstring"}}"#, 1.5),
            (nil, #"{"name": "Hermione Granger", "house": "Gryffindor", "blood_status": "Muggle-born", "year": 5, "wand": {"wood": "Vine", "core": "Dragon heartstring"}}"#, 1.1),
        ] as [(String?, String, Double)] {
            let regex = try JSONSchemaConverter.regex(schemaText: schema, options: JSONSchemaOptions(whitespacePattern: ws))
            let grammar = CompiledGrammar(dfa: try RegexCompiler.compile(regex), index: index)
            #expect(grammar.dfa.matches(target))
            let plain = try Self.simulate(grammar, tokenizer: tokenizer, target: target, jump: false)
            let jumped = try Self.simulate(grammar, tokenizer: tokenizer, target: target, jump: true)
            #expect(tokenizer.decode(jumped.tokens) == target)
            #expect(Double(plain.steps) >= factor * Double(jumped.steps), "ws \(ws ?? "default"): \(plain.steps) vs \(jumped.steps)")
            print("fixed-key schema (whitespace \(ws ?? "[ ]?")): \(plain.steps) model steps without jump-forward, \(jumped.steps) with")
        }
    }

    @Test func retokenizesTheBoundary() throws {
        let (tokenizer, index) = try SmolLM2.load()
        // After `"x` the grammar forces `yz": 1`; "xyz" may tokenize as one token, so earlier tokens are redone.
        let grammar = CompiledGrammar(dfa: try RegexCompiler.compile(#"\{"(xyz|abc)": 1\}"#), index: index)
        var matcher = GrammarMatcher(grammar: grammar)
        for id in tokenizer.encode("{\"x", addSpecialTokens: false) { let ok = matcher.accept(id); #expect(ok) }
        let before = matcher.tokens
        let resultResult = matcher.jumpForward(tokenizer: tokenizer)
        let result = try #require(resultResult)
        #expect(result.forcedText == "yz\": 1}")
        #expect(matcher.tokens == tokenizer.encode("{\"xyz\": 1}", addSpecialTokens: false) || result.rollback == 0)
        #expect(Array(before.prefix(before.count - result.rollback)) + result.tokens == matcher.tokens)
        #expect(tokenizer.decode(matcher.tokens) == "{\"xyz\": 1}")
        #expect(matcher.isAccepting)
        let again = matcher.jumpForward(tokenizer: tokenizer)
        #expect(again == nil)  // nothing left to force
    }
}

@Suite struct JumpForwardUnicodeTests {
    /// A token that ends inside a character: the forced continuation bytes finish it and re-tokenize.
    @Test func finishesAPartialCharacter() throws {
        let (tokenizer, index) = try SmolLM2.load()
        let grammar = CompiledGrammar(dfa: try RegexCompiler.compile("(東京|大阪)タワー!"), index: index)
        var matcher = GrammarMatcher(grammar: grammar)
        // Feed the bytes of "東" through single-byte tokens, then all but the last byte of "京".
        let bytes = Array("東京".utf8)
        for b in bytes.prefix(5) {
            let id = try #require(index.vocabulary.tokenBytes.firstIndex { $0 == [b] })
            let ok = matcher.accept(id)
            #expect(ok)
        }
        let result = matcher.jumpForward(tokenizer: tokenizer)
        let jump = try #require(result)
        #expect(jump.forcedText == "京タワー!")  // the partial 京 is completed by the forced bytes
        #expect(tokenizer.decode(matcher.tokens) == "東京タワー!")
        #expect(matcher.isAccepting)
    }
}
