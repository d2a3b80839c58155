/// The steps of the tokenizer.json pipeline around the model: normalizer → pre-tokenizer → model →
/// post-processor, and the decoder for the way back. Each concrete type mirrors one tokenizer.json `type`
/// and is built from its JSON object by `init(json:)`. All are immutable values, safe to share.

/// Rewrites the text of a segment before it is split (NFC, lowercase, Prepend, Replace, ...).
protocol Normalizer: Sendable {
    func normalize(_ text: String) -> String
}

/// One piece of a segment during pre-tokenization.
struct PreToken: Sendable, Equatable {
    /// The piece's text.
    var text: String
    /// True when the piece starts at the very beginning of the input text (Metaspace's `prepend_scheme: first`).
    var atTextStart: Bool
}

/// Splits (and possibly rewrites) pieces of text into the words the model tokenizes one by one.
protocol PreTokenizer: Sendable {
    /// Splits every piece further; pieces never merge.
    func preTokenize(_ pieces: [PreToken]) -> [PreToken]
}

/// Adds special tokens around an encoded sequence (TemplateProcessing, BertProcessing, ...).
protocol PostProcessor: Sendable {
    /// The final ids of one sequence; `addSpecialTokens` false leaves `ids` as they are.
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int]
}

/// Turns token strings back into text pieces (ByteLevel, Metaspace, ByteFallback, Fuse, Strip, ...).
protocol TokenDecoder: Sendable {
    /// Transforms the token strings of a sequence; the results are concatenated by the caller.
    func decodeChain(_ tokens: [String]) -> [String]
}
