import Tokenizers

/// A request's decoded output, owned by the scheduler thread: incremental detokenization with the request's
/// skip_special_tokens / spaces_between_special_tokens, and stop-string detection.
///
/// The text follows SGLang's detokenizer (spec §7.11): the output ids are decoded incrementally with up to 5
/// prompt ids as left context (so a SentencePiece model's first output word keeps its leading space), text is
/// committed when it does not end in an incomplete character, and at the end whatever is left is flushed.
///
/// - `spaces_between_special_tokens` has no effect, as in SGLang: SGLang loads the tokenizer with
///   `AutoTokenizer`, which gives transformers' *fast* tokenizer whenever there is a tokenizer.json (always
///   the case here), and `PreTrainedTokenizerFast._decode` ignores that option; only slow (Python) tokenizers
///   honour it. Checked with transformers 5.23 on SmolLM2 and a Llama-2 SentencePiece tokenizer: the decode of
///   `<|im_start|>user\nHi<|im_end|><|im_end|>x` is identical with the option on and off.
/// - Stop strings are matched on UTF-8 bytes, i.e. by code point like Python's `str.find` (not by grapheme).
/// - The text that stop strings are searched in ("visible text") is the committed text plus the not yet
///   committed tail minus its trailing U+FFFD (the incomplete character). For byte-level and byte-fallback
///   decoders that tail can only grow, so a stop string is seen as soon as its last character is complete,
///   even while a following token keeps the window open (CJK split across tokens).
public struct RequestOutputText: Sendable {
    /// The request's sampling parameters (stop strings, `no_stop_trim`, detokenization options).
    public let params: SamplingParams
    private let tokenizer: Tokenizer
    private let matcher: StopStringMatcher
    /// The last (≤ 5) prompt ids: the detokenizer's left context.
    private let context: [Int]
    private var detokenizer: IncrementalDetokenizer
    /// Committed text (bytes `0..<committedCount`) followed by the stable part of the pending tail.
    private var visible: [UInt8] = []
    private var committedCount = 0
    /// The pending tail as a final flush would return it (may end in U+FFFD).
    private var pendingRaw = ""
    /// Bytes of `visible` that may be streamed.
    private var streamEnd = 0
    /// The first stop string found: its index in `matcher` and its byte offset in `visible`.
    private var match: (index: Int, start: Int)?
    /// `stop_regex`: the automata, their states after `visible[..<regexScanned]` (committed text only), and the
    /// first pattern that matched.
    private let regexMatcher: StopRegexMatcher?
    private var regexStates: [UInt32] = []
    private var regexScanned = 0
    private var regexMatch: Int?

    /// Number of prompt ids the detokenizer keeps as context (SGLang: `surr_offset = read_offset - 5`).
    static let contextLength = 5

    /// - Parameters:
    ///   - tokenizer: The model's tokenizer.
    ///   - promptIds: The prompt; only its last few ids are kept, as left context for the first output ids.
    ///   - params: `stop`, `stopRegex`, `noStopTrim` and `skipSpecialTokens` are used; `stopRegex` is compiled
    ///     here (a pattern that does not compile is ignored: `Engine.prepare` refuses it).
    public init(tokenizer: Tokenizer, promptIds: [Int], params: SamplingParams) {
        self.init(tokenizer: tokenizer, promptIds: promptIds, params: params,
                  stopRegex: params.stopRegex.isEmpty ? nil : try? StopRegexMatcher(params.stopRegex))
    }

    /// The same with `params.stopRegex` already compiled (`Engine.prepare` does it once per request).
    init(tokenizer: Tokenizer, promptIds: [Int], params: SamplingParams, stopRegex: StopRegexMatcher?) {
        self.tokenizer = tokenizer
        self.params = params
        matcher = StopStringMatcher(params.stop)
        regexMatcher = stopRegex
        regexStates = stopRegex?.startStates ?? []
        context = Array(promptIds.suffix(Self.contextLength))
        detokenizer = tokenizer.makeIncrementalDetokenizer(skipSpecialTokens: params.skipSpecialTokens, context: context)
    }

    /// The output ids appended so far (after the last `reset`, the ids it was given).
    public var outputIds: ArraySlice<Int> { detokenizer.ids.dropFirst(context.count) }

    /// The stop string found so far (the first one), if any; for a `stop_regex` match, its pattern.
    public var matchedStop: String? {
        if let match { return matcher.strings[match.index] }
        return regexMatch.flatMap { regexMatcher?.patterns[$0] }
    }

    /// Appends newly generated ids (usually one); returns the stop string that now appears in the output text
    /// (the earliest occurrence of any of `params.stop`), or nil. Must be cheap per step: search only the region
    /// the new text can complete (last new text + up to maxStopLength-1 characters before it).
    ///
    /// Once a stop string was found, later calls keep returning it. Among stop strings that start at the same
    /// place the shortest wins (it completes first); SGLang instead takes the first in list order, which only
    /// differs when two stop strings appear in the same step.
    @discardableResult
    public mutating func append(_ ids: [Int]) -> String? {
        guard !ids.isEmpty else { return matchedStop }
        let oldCount = visible.count
        let fed = feed(ids)
        updateVisible(committedDelta: fed.delta, holding: fed.holding)
        return afterTextChange(searchFrom: min(oldCount, visible.count))
    }

    /// Text safe to send to a streaming client now: the decoded text minus (a) characters still incomplete and
    /// (b) a tail that could be the beginning of a stop string (so a client never sees a stop string that is
    /// later trimmed). Monotone: each call's value extends the previous one.
    ///
    /// Read it only while the request is unfinished: once a stop *token* was appended its text (kept when
    /// special tokens are not skipped) is in here, and `finalText` removes it.
    ///
    /// SGLang's `find_printable_text` (stream the pending delta up to its last space, or through CJK) is not
    /// applied: it exists because a SentencePiece window's decode may still change, so only whole words are
    /// safe. Here the pending tail minus its incomplete last character is already streamed, and with
    /// byte-level and byte-fallback decoders that part never changes, so the word rule would only withhold
    /// more.
    public var streamableText: String { String(decoding: visible[..<streamEnd], as: UTF8.self) }

    /// The final text for the given finish: for .matchedString(s), cut at the first occurrence of s (kept when
    /// no_stop_trim); for .matchedToken(id) the stop token's own text is removed unless no_stop_trim (special
    /// tokens are already skipped when skip_special_tokens); otherwise the whole text (held-back text flushed).
    ///
    /// As in SGLang's `trim_matched_stop`, `no_stop_trim` returns the whole text, including anything the
    /// stop string's last token decoded to after the stop string. A `.matchedToken` id that is not the last
    /// output id leaves the text whole.
    public func finalText(for finish: FinishReason) -> String {
        switch finish {
        case .matchedString(let stop):
            let full = fullBytes()
            guard !params.noStopTrim, let at = StopStringMatcher.firstOccurrence(of: Array(stop.utf8), in: full),
                  !stop.isEmpty else { return String(decoding: full, as: UTF8.self) }
            return String(decoding: full[..<at], as: UTF8.self)
        case .matchedToken(let id):
            let ids = outputIds
            guard !params.noStopTrim, ids.last == id else { return String(decoding: fullBytes(), as: UTF8.self) }
            var detok = tokenizer.makeIncrementalDetokenizer(skipSpecialTokens: params.skipSpecialTokens, context: context)
            var text = ""
            for kept in ids.dropLast() { text += detok.append(kept) }
            return text + detok.finish()
        case .length, .abort:
            return String(decoding: fullBytes(), as: UTF8.self)
        }
    }

    /// The text of one token (for `return_text_in_logprobs`), decoded alone.
    ///
    /// Like SGLang's `detokenize_logprob_tokens` (`batch_decode` of single ids): special tokens are kept, a
    /// SentencePiece word token loses its leading space, and a partial UTF-8 byte decodes as U+FFFD.
    public static func tokenText(_ id: Int, tokenizer: Tokenizer) -> String {
        tokenizer.decode([id], skipSpecialTokens: false)
    }

    /// Re-initializes after the output ids were replaced (jump-forward re-tokenization): `outputIds` is the new
    /// complete output. Returns the first stop string anywhere in the new text, if any.
    ///
    /// The stream stays monotone when the new text extends what was already streamed (jump-forward only
    /// re-tokenizes, so it does); otherwise streaming restarts from the new text.
    @discardableResult
    public mutating func reset(outputIds: [Int]) -> String? {
        let streamed = Array(visible[..<streamEnd])
        detokenizer = tokenizer.makeIncrementalDetokenizer(skipSpecialTokens: params.skipSpecialTokens, context: context)
        let fed = feed(outputIds)
        visible.removeAll(keepingCapacity: true)
        committedCount = 0
        pendingRaw = ""
        match = nil
        regexMatch = nil
        regexStates = regexMatcher?.startStates ?? []
        regexScanned = 0
        updateVisible(committedDelta: fed.delta, holding: fed.holding)
        if visible.count < streamed.count || !visible.starts(with: streamed) { streamEnd = 0 }
        return afterTextChange(searchFrom: 0)
    }

    // MARK: Internals

    /// Feeds ids one at a time, so text is committed at every character boundary. Fed together, a run of
    /// byte-fallback tokens that ends inside a character decodes as U+FFFD throughout (transformers'
    /// `ByteFallback` rejects the whole run) and would hold back its complete characters too.
    /// `holding`: the last id committed nothing, so some ids are pending.
    private mutating func feed(_ ids: [Int]) -> (delta: String, holding: Bool) {
        var delta = ""
        var holding = false
        for id in ids {
            let piece = detokenizer.append(id)
            delta += piece
            holding = piece.isEmpty
        }
        return (delta, holding)
    }

    /// Committed text plus the raw pending tail: what a flush at this point gives.
    private func fullBytes() -> [UInt8] {
        var bytes = Array(visible[..<committedCount])
        bytes.append(contentsOf: pendingRaw.utf8)
        return bytes
    }

    /// Appends the newly committed text and recomputes the pending tail.
    private mutating func updateVisible(committedDelta delta: String, holding: Bool) {
        visible.removeSubrange(committedCount...)
        visible.append(contentsOf: delta.utf8)
        committedCount = visible.count
        if holding {
            // Nothing committed: the detokenizer holds ids back. A copy's flush shows what they decode to.
            var copy = detokenizer
            pendingRaw = copy.finish()
        } else {
            pendingRaw = ""
        }
        var stable = pendingRaw.unicodeScalars[...]
        while stable.last == "\u{FFFD}" { stable = stable.dropLast() }
        visible.append(contentsOf: String(String.UnicodeScalarView(stable)).utf8)
    }

    /// Looks for a stop string ending at or after `searchFrom` and moves the stream end.
    private mutating func afterTextChange(searchFrom: Int) -> String? {
        if match == nil, let found = matcher.firstMatch(in: visible, newFrom: searchFrom) {
            match = (found.index, found.start)
        }
        if match == nil, regexMatch == nil { scanStopRegex() }
        // After a regex match the stream stops where it was (the final text decides what is trimmed).
        guard regexMatch == nil || match != nil else { return matchedStop }
        let end = match?.start ?? matcher.holdBackStart(in: visible)
        streamEnd = min(max(streamEnd, end), visible.count)
        return matchedStop
    }

    /// Advances the `stop_regex` automata over the newly committed text, and on copies over the stable pending
    /// tail (which a later token may still change).
    private mutating func scanStopRegex() {
        guard let regexMatcher else { return }
        // The committed text only grows (`reset` starts the scan over).
        let committed = min(committedCount, visible.count)
        if let hit = regexMatcher.advance(&regexStates, over: visible[regexScanned..<committed]) {
            regexMatch = hit
        }
        regexScanned = committed
        guard regexMatch == nil, committed < visible.count else { return }
        var tentative = regexStates
        regexMatch = regexMatcher.advance(&tentative, over: visible[committed...])
    }
}
