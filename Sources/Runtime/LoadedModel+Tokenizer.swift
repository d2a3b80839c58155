import Tokenizers

extension LoadedModel {
    /// The same model with another tokenizer (`sglang serve --tokenizer-path`).
    public func replacingTokenizer(_ tokenizer: Tokenizer?) -> LoadedModel {
        var copy = self
        copy.tokenizer = tokenizer
        return copy
    }
}
