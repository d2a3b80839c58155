/// The model step of the tokenizer pipeline (BPE, WordPiece, Unigram): turns one normalized,
/// pre-tokenized word into token ids. Implementations are immutable and safe to share across threads.
protocol TokenizerModel: Sendable {
    /// Appends the ids of `word` to `ids`.
    func tokenize(_ word: String, into ids: inout [Int])
    /// The id of a token string of the vocabulary (in the model's own alphabet, e.g. `Ġthe`, `▁the`, `##ing`).
    func tokenToId(_ token: String) -> Int?
    /// The token string of an id, or nil when the id is outside the vocabulary.
    func idToToken(_ id: Int) -> String?
    /// The number of ids in the model's vocabulary (added tokens not included).
    var vocabSize: Int { get }
}
