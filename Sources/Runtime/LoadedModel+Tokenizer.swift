import Tokenizers

extension LoadedModel {
    /// The same model with another tokenizer (`sglang serve --tokenizer-path`).
    public func replacingTokenizer(_ tokenizer: Tokenizer?) -> LoadedModel {
        LoadedModel(config: config, model: model, generationConfig: generationConfig, tokenizer: tokenizer, vision: vision)
    }
}
