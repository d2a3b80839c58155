import Tokenizers

/// A tokenizer's vocabulary prepared for masking: the token → bytes table and its trie. Build one per
/// tokenizer and share it by every grammar compiled for that tokenizer.
public final class TokenIndex: Sendable {
    /// Token id → raw bytes.
    public let vocabulary: TokenVocabulary
    /// The vocabulary's flat DFS trie.
    public let trie: TokenTrie
    /// Words per mask row: ceil(size / 32).
    public let maskWords: Int

    /// Builds the trie of `vocabulary`.
    public init(vocabulary: TokenVocabulary) {
        self.vocabulary = vocabulary
        trie = TokenTrie(vocabulary)
        maskWords = (vocabulary.size + 31) / 32
    }

    /// The index of a loaded tokenizer (see `TokenVocabulary.init(tokenizer:)`).
    public convenience init(tokenizer: Tokenizer, extraEOSTokenIds: [Int] = []) throws(GrammarError) {
        self.init(vocabulary: try TokenVocabulary(tokenizer: tokenizer, extraEOSTokenIds: extraEOSTokenIds))
    }

    /// The number of token ids.
    public var size: Int { vocabulary.size }

    /// Whether `token` ends generation.
    public func isEOS(_ token: Int) -> Bool { vocabulary.eosTokenIds.contains(token) }
}
