import Tokenizers

/// A tokenizer's vocabulary prepared for masking: the token → bytes table and its trie. Build one per
/// tokenizer and share it by every grammar compiled for that tokenizer.
public final class TokenIndex: Sendable {
    public let vocabulary: TokenVocabulary
    public let trie: TokenTrie
    /// Words per mask row: ceil(size / 32).
    public let maskWords: Int

    public init(vocabulary: TokenVocabulary) {
        self.vocabulary = vocabulary
        trie = TokenTrie(vocabulary)
        maskWords = (vocabulary.size + 31) / 32
    }

    public convenience init(tokenizer: Tokenizer, extraEOSTokenIds: [Int] = []) throws(GrammarError) {
        self.init(vocabulary: try TokenVocabulary(tokenizer: tokenizer, extraEOSTokenIds: extraEOSTokenIds))
    }

    public var size: Int { vocabulary.size }

    public func isEOS(_ token: Int) -> Bool { vocabulary.eosTokenIds.contains(token) }
}
