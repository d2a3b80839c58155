/// Streaming detokenization: feed token ids as they are generated and get the newly completed text.
///
/// Each step decodes a small window `ids[prefixOffset...]` and compares it with the decode of
/// `ids[prefixOffset..<readOffset]` (the text already emitted from that window), as vLLM and SGLang do.
/// Decoding a window that starts at an already-emitted token keeps SentencePiece's "strip the leading
/// space of the sequence" rule from eating spaces mid-stream, and text that ends in U+FFFD (an incomplete
/// UTF-8 character) is held back until the character completes, so no half character is ever emitted.
/// The concatenation of everything returned, `finish()` included, equals `decode(ids)`.
public struct IncrementalDetokenizer: Sendable {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    /// Every id fed so far (context ids first).
    public private(set) var ids: [Int]
    private var prefixOffset: Int
    private var readOffset: Int

    init(tokenizer: Tokenizer, skipSpecialTokens: Bool, context: [Int]) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        ids = context
        // A few context tokens are enough to give the first new token its left context.
        prefixOffset = max(0, context.count - 5)
        readOffset = context.count
    }

    /// Adds one id; returns the text it completes (often empty while a character is incomplete).
    public mutating func append(_ id: Int) -> String {
        ids.append(id)
        return step(final: false)
    }

    /// Adds several ids; returns the text they complete.
    public mutating func append(contentsOf newIds: [Int]) -> String {
        ids.append(contentsOf: newIds)
        return step(final: false)
    }

    /// Returns whatever is still held back (an incomplete character decodes as U+FFFD here).
    public mutating func finish() -> String {
        step(final: true)
    }

    private mutating func step(final: Bool) -> String {
        guard readOffset < ids.count else { return "" }
        let emitted = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
        let window = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
        if !final && window.unicodeScalars.last == "\u{FFFD}" { return "" }
        // Diff on the common prefix: SentencePiece decodes are not strictly append-only.
        let old = Array(emitted.unicodeScalars)
        let new = Array(window.unicodeScalars)
        var common = 0
        while common < old.count && common < new.count && old[common] == new[common] { common += 1 }
        if !final && common == new.count { return "" }
        var delta = String.UnicodeScalarView()
        delta.append(contentsOf: new[common...])
        prefixOffset = readOffset
        readOffset = ids.count
        return String(delta)
    }
}
