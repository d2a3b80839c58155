import Foundation
import Runtime
import Testing
import Tokenizers

/// `RequestOutputText` fed token by token, checked against whole-list decodes and brute-force stop-string
/// searches, with the SmolLM2 byte-level BPE tokenizer and a Llama-2 SentencePiece (byte-fallback) tokenizer.
@Suite struct RequestOutputTextTests {
    struct MissingTokenizer: Error, CustomStringConvertible {
        let path: String
        var description: String { "tokenizer fixture missing: \(path)" }
    }

    static func loadTokenizer(_ path: String) -> Result<Tokenizer, any Error> {
        Result {
            guard FileManager.default.fileExists(atPath: path) else { throw MissingTokenizer(path: path) }
            return try Tokenizer.load(from: path)
        }
    }

    static let smolLM2 = loadTokenizer(
        RuntimeFixtures.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/smollm2/hf-tokenizer").path)
    static let sentencePiece = loadTokenizer(
        RuntimeFixtures.repoRoot.appendingPathComponent("Tests/TokenizersTests/Resources/hf/llama2-legacy/tokenizer.json").path)

    // MARK: Independent model

    /// SplitMix64, so the random cases are the same on every run.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The output text computed from whole-list decodes: `decode(context + out)` minus `decode(context)`
    /// (context = the prompt's last 5 ids, SGLang's `surr_offset`), and stop strings found by brute force.
    struct Reference {
        let tokenizer: Tokenizer
        let context: [Int]
        let skip: Bool
        let stops: [String]

        /// SentencePiece byte-fallback tokens (`<0xE4>`) and their byte.
        let byteFallback: [Int: UInt8]

        init(tokenizer: Tokenizer, prompt: [Int], params: SamplingParams) {
            self.tokenizer = tokenizer
            context = Array(prompt.suffix(5))
            skip = params.skipSpecialTokens
            stops = params.stop
            byteFallback = Self.byteFallbackTokens(tokenizer)
        }

        static func byteFallbackTokens(_ tokenizer: Tokenizer) -> [Int: UInt8] {
            var map: [Int: UInt8] = [:]
            for byte in 0...255 {
                let hex = String(byte, radix: 16, uppercase: true)
                if let id = tokenizer.tokenToId("<0x" + (hex.count == 1 ? "0" : "") + hex + ">") { map[id] = UInt8(byte) }
            }
            return map
        }

        static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }
        static func string(_ s: some Sequence<Unicode.Scalar>) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s)
            return String(view)
        }

        /// The whole text of `out`, incomplete characters decoded as U+FFFD.
        func text(_ out: some Collection<Int>) -> String {
            let whole = Self.scalars(tokenizer.decode(context + Array(out), skipSpecialTokens: skip))
            let base = Self.scalars(tokenizer.decode(context, skipSpecialTokens: skip))
            var common = 0
            while common < base.count && common < whole.count && base[common] == whole[common] { common += 1 }
            return Self.string(whole[common...])
        }

        /// How many trailing byte-fallback tokens spell an incomplete character (0 when none do).
        func incompleteByteFallbackTail(_ out: some Collection<Int>) -> Int {
            var run: [UInt8] = []
            for id in out.reversed() {
                guard let byte = byteFallback[id] else { break }
                run.insert(byte, at: 0)
            }
            guard let lead = run.lastIndex(where: { $0 & 0xC0 != 0x80 }) else { return 0 }
            let b = run[lead]
            let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
            return run.count - lead < length ? run.count - lead : 0
        }

        func endsInsideByteFallbackCharacter(_ out: some Collection<Int>) -> Bool { incompleteByteFallbackTail(out) > 0 }

        /// What is known not to change: the text minus trailing U+FFFD. With byte-fallback tokens, the byte
        /// tokens of an incomplete last character are left out first, since transformers decodes a whole run
        /// of byte tokens as one U+FFFD per byte when the run is not valid UTF-8.
        func visible(_ out: some Collection<Int>) -> [Unicode.Scalar] {
            var ids = Array(out)
            ids.removeLast(incompleteByteFallbackTail(ids))
            var s = Self.scalars(text(ids))
            while s.last == "\u{FFFD}" { s.removeLast() }
            return s
        }

        /// Earliest stop-string occurrence (scalar offset), ties to the shortest string.
        func firstStop(in text: [Unicode.Scalar]) -> (stop: String, start: Int)? {
            var best: (stop: String, start: Int, length: Int)? = nil
            for stop in stops {
                let s = Self.scalars(stop)
                guard !s.isEmpty, s.count <= text.count else { continue }
                for start in 0...(text.count - s.count) where Array(text[start..<(start + s.count)]) == s {
                    if best.map({ start < $0.start || (start == $0.start && s.count < $0.length) }) ?? true {
                        best = (stop, start, s.count)
                    }
                    break
                }
            }
            return best.map { ($0.stop, $0.start) }
        }

        /// Smallest start whose suffix is a proper prefix of a stop string (text.count when none).
        func holdBack(_ text: [Unicode.Scalar]) -> Int {
            for start in 0..<text.count {
                let tail = Array(text[start...])
                if stops.contains(where: { Self.scalars($0).count > tail.count && Self.scalars($0).starts(with: tail) }) {
                    return start
                }
            }
            return text.count
        }
    }

    /// Feeds `ids` in `chunks` and checks every step against `Reference`; returns the stop string hit.
    @discardableResult
    static func check(_ tokenizer: Tokenizer, prompt: [Int] = [], ids: [Int], chunks: [Int]? = nil,
                      params: SamplingParams, label: String) -> String? {
        let ref = Reference(tokenizer: tokenizer, prompt: prompt, params: params)
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: prompt, params: params)
        let sizes = chunks ?? Array(repeating: 1, count: ids.count)
        var fed = 0
        var previous = ""
        var stopped: String? = nil
        for size in sizes where fed < ids.count {
            let end = min(ids.count, fed + size)
            let got = output.append(Array(ids[fed..<end]))
            fed = end
            let visible = ref.visible(ids[..<fed])
            let expected = ref.firstStop(in: visible)
            #expect(got == expected?.stop, "\(label): stop after \(fed) ids")
            let stream = output.streamableText
            #expect(stream.utf8.starts(with: previous.utf8), "\(label): stream not monotone at \(fed) ids")
            for stop in params.stop {
                #expect(stream.range(of: stop, options: .literal) == nil, "\(label): stream shows stop \(stop.debugDescription)")
            }
            let streamEnd = expected?.start ?? ref.holdBack(visible)
            #expect(stream == Reference.string(visible[..<streamEnd]), "\(label): stream at \(fed) ids")
            previous = stream
            if let got {
                stopped = got
                break
            }
        }
        // Ending inside a byte-fallback character, a whole decode turns the run into U+FFFDs; the flushed
        // text is then only required to be the stable text followed by U+FFFDs.
        let full = ref.text(ids[..<fed])
        let visible = Reference.string(ref.visible(ids[..<fed]))
        func sameText(_ got: String, _ expected: String, _ what: String) {
            if ref.endsInsideByteFallbackCharacter(ids[..<fed]) {
                let rest = Reference.scalars(got).dropFirst(visible.unicodeScalars.count)
                #expect(got.unicodeScalars.starts(with: visible.unicodeScalars) && rest.allSatisfy { $0 == "\u{FFFD}" },
                        "\(label): \(what): \(got.debugDescription) is not \(visible.debugDescription) + U+FFFD")
            } else {
                #expect(got == expected, "\(label): \(what)")
            }
        }
        if let stop = stopped {
            let final = output.finalText(for: .matchedString(stop))
            if params.noStopTrim {
                sameText(final, full, "final text for kept stop \(stop.debugDescription)")
            } else {
                let r = try? #require(visible.range(of: stop, options: .literal))
                #expect(final == r.map { String(visible[..<$0.lowerBound]) }, "\(label): final text for stop \(stop.debugDescription)")
            }
            #expect(final.utf8.starts(with: previous.utf8), "\(label): stream is not a prefix of the final text")
        } else {
            sameText(output.finalText(for: .length(fed)), full, "final text")
            sameText(output.finalText(for: .abort(message: "x", statusCode: 400)), full, "abort text")
            #expect(output.finalText(for: .length(fed)).utf8.starts(with: previous.utf8),
                    "\(label): stream is not a prefix of the final text")
            if let last = ids.last, !ref.endsInsideByteFallbackCharacter(ids.dropLast()) {
                let trimmed = params.noStopTrim ? output.finalText(for: .length(fed)) : ref.text(ids.dropLast())
                #expect(output.finalText(for: .matchedToken(last)) == trimmed, "\(label): stop-token text")
            }
        }
        return stopped
    }

    // MARK: Random cases

    static let samples = ["Hello, world! ", "naïve café ", "你好，世界。", "😀👍🏽 emoji ", "Ünïcödé e\u{301} ",
                          "stop STOP st0p ", "\n\n", "ab abc abcd ", "The answer is 42.", " tab\t end"]
    static let fixedStops = ["STOP", "你", "好，", "😀", "é", "e", "\n", "ab", "abc", "<|im_end|>", "</s>", " ", "🏽"]

    /// Random ids mixing encoded text, UTF-8 fragments, special tokens and arbitrary vocabulary ids.
    ///
    /// With byte-level BPE, fragments are lone bytes in any order and encoded text is sliced anywhere: the
    /// decode is a byte concatenation, so even invalid UTF-8 must come out as a whole decode does. With
    /// byte-fallback tokens only valid UTF-8 is generated (whole samples, whole characters): transformers
    /// decodes an invalid run of byte tokens as one U+FFFD per byte, so a character committed from a valid
    /// prefix of the run would later turn into U+FFFD in a whole decode (SGLang streams it the same way).
    static func randomIds(_ tokenizer: Tokenizer, byteTokens: [Int], validUTF8: Bool, rng: inout SplitMix64) -> [Int] {
        var ids: [Int] = []
        let special = Array(tokenizer.specialTokenIds).sorted()
        let target = Int.random(in: 1...20, using: &rng)
        let chars = ["你", "好", "，", "😀", "é", "ß", "€", "\u{301}"]
        let byteFallback = Reference.byteFallbackTokens(tokenizer)
        var byteId: [UInt8: Int] = [:]
        for (id, byte) in byteFallback { byteId[byte] = id }
        while ids.count < target {
            let roll = Int.random(in: 0..<10, using: &rng)
            if roll < 5, let text = samples.randomElement(using: &rng) {
                let encoded = tokenizer.encode(text, addSpecialTokens: false)
                if validUTF8 {
                    ids += encoded
                } else {
                    let from = Int.random(in: 0..<max(1, encoded.count), using: &rng)
                    ids += encoded[min(from, encoded.count)...].prefix(Int.random(in: 1...6, using: &rng))
                }
            } else if roll < 7 {
                if validUTF8 {
                    for _ in 0..<Int.random(in: 1...3, using: &rng) {
                        ids += (chars.randomElement(using: &rng) ?? "é").utf8.compactMap { byteId[$0] }
                    }
                } else {
                    for _ in 0..<Int.random(in: 1...4, using: &rng) { if let b = byteTokens.randomElement(using: &rng) { ids.append(b) } }
                }
            } else if roll < 8, let s = special.randomElement(using: &rng) {
                ids.append(s)
            } else {
                let id = Int.random(in: 0..<tokenizer.vocabSize, using: &rng)
                if !validUTF8 || byteFallback[id] == nil { ids.append(id) }
            }
        }
        return ids
    }

    /// One to three stop strings: pieces of the output text, fixed multi-byte strings, and prefixes or
    /// extensions of another stop string. Strings with U+FFFD are left out.
    static func randomStops(text: String, rng: inout SplitMix64) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var stops: [String] = []
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let roll = Int.random(in: 0..<10, using: &rng)
            var stop = ""
            if roll < 6, !scalars.isEmpty {
                let start = Int.random(in: 0..<scalars.count, using: &rng)
                let length = Int.random(in: 1...min(6, scalars.count - start), using: &rng)
                stop = Reference.string(scalars[start..<(start + length)])
            } else if roll < 8 {
                stop = fixedStops.randomElement(using: &rng) ?? "e"
            } else if let other = stops.last {
                let s = Array(other.unicodeScalars)
                stop = s.count > 1 && Bool.random(using: &rng)
                    ? Reference.string(s.dropLast()) : other + (fixedStops.randomElement(using: &rng) ?? "e")
            }
            if !stop.isEmpty && !stop.unicodeScalars.contains("\u{FFFD}") { stops.append(stop) }
        }
        return stops
    }

    /// Runs `count` random cases; returns how many ended on a stop string.
    static func randomCases(_ tokenizer: Tokenizer, count: Int, seed: UInt64, validUTF8: Bool, label: String) -> Int {
        var rng = SplitMix64(state: seed)
        // Tokens that decode to a single byte that is not a whole character: UTF-8 fragments.
        let byteTokens = (0..<tokenizer.vocabSize).filter { tokenizer.decode([$0]) == "\u{FFFD}" }
        var stopped = 0
        for index in 0..<count {
            let ids = randomIds(tokenizer, byteTokens: byteTokens, validUTF8: validUTF8, rng: &rng)
            let skip = Bool.random(using: &rng)
            let prompt = Bool.random(using: &rng)
                ? tokenizer.encode(samples.randomElement(using: &rng) ?? "", addSpecialTokens: false) : []
            let text = Reference(tokenizer: tokenizer, prompt: prompt, params: SamplingParams(skipSpecialTokens: skip)).text(ids)
            let stops = index % 5 == 0 ? [] : randomStops(text: text, rng: &rng)
            let params = SamplingParams(stop: stops, skipSpecialTokens: skip, noStopTrim: Bool.random(using: &rng))
            let chunks = ids.map { _ in Int.random(in: 0..<10, using: &rng) < 7 ? 1 : Int.random(in: 2...3, using: &rng) }
            let hit = check(tokenizer, prompt: prompt, ids: ids, chunks: chunks, params: params,
                            label: "\(label) case \(index) ids \(ids) prompt \(prompt) stops \(stops.map(\.debugDescription)) skip \(skip)")
            if hit != nil { stopped += 1 }
        }
        return stopped
    }

    @Test func randomSequencesByteLevelBPE() throws {
        let tokenizer = try Self.smolLM2.get()
        let stopped = Self.randomCases(tokenizer, count: 3000, seed: 0x5EED_0001, validUTF8: false, label: "smollm2")
        // Many cases must actually hit a stop string, or the test checks little.
        #expect(stopped > 1000)
    }

    @Test func randomSequencesSentencePiece() throws {
        let tokenizer = try Self.sentencePiece.get()
        let stopped = Self.randomCases(tokenizer, count: 2000, seed: 0x5EED_0002, validUTF8: true, label: "llama2-spm")
        #expect(stopped > 600)
    }

    // MARK: Named cases

    /// GPT-2's byte → alphabet character map, to spell any byte as a SmolLM2 token.
    static func byteTokenId(_ byte: UInt8, _ tokenizer: Tokenizer) -> Int? {
        var printable: [Int] = Array(33...126) + Array(161...172) + Array(174...255)
        var scalar: Int
        if let i = printable.firstIndex(of: Int(byte)) {
            scalar = printable[i]
        } else {
            var n = 0
            for b in 0..<256 where !printable.contains(b) {
                if b == Int(byte) { break }
                n += 1
            }
            scalar = 256 + n
        }
        printable.removeAll()
        return Unicode.Scalar(scalar).flatMap { tokenizer.tokenToId(String(Character($0))) }
    }

    @Test func stopStringSpanningSeveralTokensIsTrimmed() throws {
        let tokenizer = try Self.smolLM2.get()
        let ids = tokenizer.encode("The answer is 42. Done", addSpecialTokens: false)
        let params = SamplingParams(stop: ["is 42"])
        let hit = Self.check(tokenizer, ids: ids, params: params, label: "spanning")
        #expect(hit == "is 42")
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: params)
        var fired = 0
        for id in ids {
            fired += 1
            if output.append([id]) != nil { break }
        }
        // "is 42" starts in an earlier token than the one that completes it.
        #expect(!tokenizer.decode(Array(ids[(fired - 1)..<fired])).contains("is 42"))
        #expect(output.finalText(for: .matchedString("is 42")) == "The answer ")
        #expect(output.streamableText == "The answer ")
    }

    @Test func overlappingStopStringsTakeTheEarliestStart() throws {
        let tokenizer = try Self.smolLM2.get()
        let ids = tokenizer.encode("xabcde", addSpecialTokens: false)
        let params = SamplingParams(stop: ["bc", "abcd"])
        // All at once: "abcd" starts before "bc".
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: params)
        #expect(output.append(ids) == "abcd")
        #expect(output.finalText(for: .matchedString("abcd")) == "x")
        // Token by token, whichever the tokens complete first (checked against the brute-force reference).
        Self.check(tokenizer, ids: ids, params: params, label: "overlap")
        Self.check(tokenizer, ids: ids, params: SamplingParams(stop: ["bc", "abcd"], noStopTrim: true), label: "overlap keep")
    }

    @Test func stopStringThatIsAPrefixOfAnother() throws {
        let tokenizer = try Self.smolLM2.get()
        let ids = tokenizer.encode("xabcd", addSpecialTokens: false)
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: SamplingParams(stop: ["abc", "ab"]))
        // Same start: the shorter one completes first.
        #expect(output.append(ids) == "ab")
        #expect(output.finalText(for: .matchedString("ab")) == "x")
        Self.check(tokenizer, ids: ids, params: SamplingParams(stop: ["abc", "ab"]), label: "prefix")
        Self.check(tokenizer, ids: ids, params: SamplingParams(stop: ["abcd", "abce"]), label: "prefix 2")
    }

    @Test func stopStringInsideTheFirstToken() throws {
        let tokenizer = try Self.smolLM2.get()
        let world = try #require(tokenizer.tokenToId("Ġworld"))
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: SamplingParams(stop: ["or"]))
        #expect(output.append([world]) == "or")
        #expect(output.streamableText == " w")
        #expect(output.finalText(for: .matchedString("or")) == " w")
        let keep = SamplingParams(stop: ["or"], noStopTrim: true)
        var kept = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: keep)
        #expect(kept.append([world]) == "or")
        // SGLang's no_stop_trim keeps the whole text, the rest of the token included.
        #expect(kept.finalText(for: .matchedString("or")) == " world")
    }

    @Test func multiByteStopStringsAcrossByteTokens() throws {
        let tokenizer = try Self.smolLM2.get()
        let text = "ab你好世界😀é"
        let ids = try Array(text.utf8).map { try #require(Self.byteTokenId($0, tokenizer)) }
        #expect(tokenizer.decode(ids) == text)
        for stop in ["好", "世界", "😀", "界😀é", "é", "你好世界😀é!"] {
            let hit = Self.check(tokenizer, ids: ids, params: SamplingParams(stop: [stop]), label: "bytes \(stop)")
            #expect(hit == (text.contains(stop) ? stop : nil))
        }
        // The stream grows by whole characters while the byte tokens arrive.
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: SamplingParams())
        var streamed: [String] = []
        for id in ids {
            output.append([id])
            if streamed.last != output.streamableText { streamed.append(output.streamableText) }
        }
        #expect(streamed == ["a", "ab", "ab你", "ab你好", "ab你好世", "ab你好世界", "ab你好世界😀", text])
    }

    @Test func sentencePieceByteFallbackStopStrings() throws {
        let tokenizer = try Self.sentencePiece.get()
        let ids = tokenizer.encode("Hi 你好 there", addSpecialTokens: false)
        #expect(tokenizer.decode(ids) == "Hi 你好 there")
        for stop in ["你", "好 t", " th", "Hi"] {
            let hit = Self.check(tokenizer, ids: ids, params: SamplingParams(stop: [stop]), label: "spm \(stop)")
            #expect(hit == stop)
        }
    }

    /// transformers' fast tokenizers (what SGLang uses) ignore spaces_between_special_tokens: the texts
    /// below are transformers 5.23's decodes, identical with the option on and off.
    @Test func spacesBetweenSpecialTokensMatchesTransformers() throws {
        let cases: [(Tokenizer, [Int], String)] = [
            (try Self.smolLM2.get(), [1, 4093, 198, 26843, 2, 2, 104], "<|im_start|>user\nHi<|im_end|><|im_end|>x"),
            (try Self.sentencePiece.get(), [1, 712, 310, 492, 320, 2, 1, 377, 1027, 317, 309, 2, 377, 329],
             "<s> Hello</s><s>  world</s> x"),
        ]
        for (tokenizer, ids, expected) in cases {
            for spaces in [true, false] {
                let params = SamplingParams(skipSpecialTokens: false, spacesBetweenSpecialTokens: spaces)
                var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: params)
                for id in ids { output.append([id]) }
                #expect(output.finalText(for: .length(ids.count)) == expected)
                Self.check(tokenizer, ids: ids, params: params, label: "special \(spaces)")
            }
        }
    }

    @Test func promptContextKeepsTheFirstWordsSpace() throws {
        let tokenizer = try Self.sentencePiece.get()
        let prompt = tokenizer.encode("Hello", addSpecialTokens: true)
        let whole = tokenizer.encode("Hello world", addSpecialTokens: true)
        try #require(whole.starts(with: prompt))
        let out = Array(whole[prompt.count...])
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: prompt, params: SamplingParams())
        for id in out { output.append([id]) }
        #expect(tokenizer.decode(out) == "world")
        #expect(output.finalText(for: .length(out.count)) == " world")
        #expect(output.streamableText == " world")
        Self.check(tokenizer, prompt: prompt, ids: out, params: SamplingParams(stop: ["d"]), label: "context")
    }

    @Test func stopTokenTextIsRemovedUnlessNoStopTrim() throws {
        let tokenizer = try Self.smolLM2.get()
        let imEnd = try #require(tokenizer.tokenToId("<|im_end|>"))
        let hi = tokenizer.encode("Hi", addSpecialTokens: false)
        let cases: [(skip: Bool, keep: Bool, expected: String)] = [
            (true, false, "Hi"), (false, false, "Hi"), (false, true, "Hi<|im_end|>"), (true, true, "Hi"),
        ]
        for c in cases {
            var output = RequestOutputText(tokenizer: tokenizer, promptIds: [],
                                           params: SamplingParams(skipSpecialTokens: c.skip, noStopTrim: c.keep))
            output.append(hi)
            output.append([imEnd])
            #expect(output.finalText(for: .matchedToken(imEnd)) == c.expected)
        }
        // An ordinary stop_token_ids token.
        let ids = tokenizer.encode("Hi.", addSpecialTokens: false)
        let last = try #require(ids.last)
        var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: SamplingParams(stopTokenIds: [last]))
        output.append(ids)
        #expect(output.finalText(for: .matchedToken(last)) == tokenizer.decode(Array(ids.dropLast())))
    }

    /// transformers' `batch_decode` of single ids (what SGLang's logprob texts are).
    @Test func tokenTextMatchesTransformers() throws {
        let smol = try Self.smolLM2.get()
        #expect(RequestOutputText.tokenText(905, tokenizer: smol) == " world")
        #expect(RequestOutputText.tokenText(18645, tokenizer: smol) == "\u{FFFD}")
        #expect(RequestOutputText.tokenText(2, tokenizer: smol) == "<|im_end|>")
        let spm = try Self.sentencePiece.get()
        #expect(RequestOutputText.tokenText(1027, tokenizer: spm) == "wor")
        #expect(RequestOutputText.tokenText(1, tokenizer: spm) == "<s>")
        #expect(RequestOutputText.tokenText(231, tokenizer: spm) == "\u{FFFD}")
        #expect(RequestOutputText.tokenText(-1, tokenizer: spm) == "")
        #expect(RequestOutputText.tokenText(1 << 40, tokenizer: smol) == "")
    }

    @Test func resetAfterJumpForwardRetokenization() throws {
        let tokenizer = try Self.smolLM2.get()
        let start = tokenizer.encode("The quick", addSpecialTokens: false)
        let jumped = tokenizer.encode("The quick brown fox", addSpecialTokens: false)
        for stops in [[String](), ["brown"], ["fox"], ["The q"]] {
            let params = SamplingParams(stop: stops)
            var output = RequestOutputText(tokenizer: tokenizer, promptIds: [], params: params)
            var hit: String? = nil
            for id in start where hit == nil { hit = output.append([id]) }
            let before = output.streamableText
            if hit == nil { hit = output.reset(outputIds: jumped) }
            if hit == nil || stops == ["brown"] { #expect(Array(output.outputIds) == jumped) }
            let full = "The quick brown fox"
            let expectedHit = stops.first { full.contains($0) }
            #expect(hit == expectedHit)
            #expect(output.streamableText.hasPrefix(before))
            if let hit {
                let r = try #require(full.range(of: hit))
                #expect(output.finalText(for: .matchedString(hit)) == String(full[..<r.lowerBound]))
            } else {
                #expect(output.finalText(for: .length(jumped.count)) == full)
                #expect(full.hasPrefix(output.streamableText))
            }
        }
    }
}
