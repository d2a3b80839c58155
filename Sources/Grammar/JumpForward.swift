import Tokenizers

/// The outcome of a jump-forward: undo `rollback` tokens of the output, then append `tokens`.
public struct JumpForwardResult: Sendable, Equatable {
    /// How many of the previous output tokens to drop (their text is re-tokenized with the forced text).
    public var rollback: Int
    /// The tokens to append; their bytes spell the dropped tokens' text followed by `forcedText`.
    public var tokens: [Int]
    /// The text the grammar forced, in whole characters (when the output ended inside a character, it starts
    /// with that character, which the forced bytes complete).
    public var forcedText: String
}

extension GrammarMatcher {
    /// SGLang's compressed-FSM jump-forward: when the grammar forces text, append it without decoding steps.
    ///
    /// The forced text may merge with the previous tokens differently than token-by-token generation would
    /// (e.g. `"` + `name` → `"name`), so the tail of the output is re-tokenized: the last `window` tokens are
    /// decoded (the window shrinks until it decodes to whole characters), the forced text is appended, the
    /// result is encoded, and the common prefix with the old tail is kept. The matcher is rolled back and
    /// advanced through the new tokens. Returns nil (and changes nothing) when nothing is forced or the
    /// re-tokenized text does not walk the grammar (then decode normally).
    public mutating func jumpForward(tokenizer: Tokenizer, window: Int = 5, minForcedBytes: Int = 2) -> JumpForwardResult? {
        guard !isTerminated else { return nil }
        let forced = grammar.forcedBytes(from: state).bytes
        guard forced.count >= minForcedBytes else { return nil }
        let forcedTextBytes = forced  // widened below when the output ends inside a character

        // The tail to re-tokenize: the last k tokens whose bytes form whole characters.
        let vocab = grammar.index.vocabulary
        var k = min(window, tokens.count)
        var tailBytes: [UInt8] = []
        while k > 0 {
            tailBytes = []
            var ok = true
            for t in tokens[(tokens.count - k)...] {
                guard let b = vocab.tokenBytes[t] else { ok = false; break }
                tailBytes += b
            }
            // The tail must start on a character boundary; with the forced bytes it must be whole characters
            // (the tail may end inside a character that the forced bytes finish).
            if ok, let first = tailBytes.first, first & 0xC0 != 0x80,
               String(validating: tailBytes + forced, as: UTF8.self) != nil { break }
            k -= 1
        }
        if k == 0 {
            tailBytes = []
            guard String(validating: forced, as: UTF8.self) != nil else { return nil }
        }
        // When the output ends inside a character, the reported text starts with that whole character.
        var partial = 0
        if forced.first.map({ $0 & 0xC0 == 0x80 }) == true {
            while partial < tailBytes.count, tailBytes[tailBytes.count - 1 - partial] & 0xC0 == 0x80 { partial += 1 }
            if partial < tailBytes.count { partial += 1 }
        }
        let forcedText = String(decoding: tailBytes.suffix(partial) + forcedTextBytes, as: UTF8.self)
        let oldTail = Array(tokens.suffix(k))
        let text = String(decoding: tailBytes + forced, as: UTF8.self)
        let encoded = tokenizer.encode(text, addSpecialTokens: false)
        // The new tokens must spell exactly the old tail + forced bytes.
        var spelled: [UInt8] = []
        for t in encoded {
            guard let b = vocab.tokenBytes[t] else { return nil }
            spelled += b
        }
        guard spelled == tailBytes + forced else { return nil }
        var common = 0
        while common < oldTail.count, common < encoded.count, oldTail[common] == encoded[common] { common += 1 }

        var trial = self
        trial.rollback(k - common)
        for t in encoded[common...] {
            guard trial.accept(t) else { return nil }
        }
        self = trial
        return JumpForwardResult(rollback: k - common, tokens: Array(encoded[common...]), forcedText: forcedText)
    }
}
