extension ModelConfig {
    /// Architectures that are embedding models without `--is-embedding`: SGLang's (`LlamaEmbeddingModel`,
    /// `MistralModel`) and the other bare transformers of our families, which have no LM head.
    public static let embeddingArchitectures: Set<String> = [
        "LlamaEmbeddingModel", "MistralModel", "LlamaModel", "Qwen2Model", "Qwen3Model", "Gemma2Model",
    ]

    /// Whether `architectures` names an embedding model.
    public var isEmbeddingArchitecture: Bool { architectures.contains { Self.embeddingArchitectures.contains($0) } }

    /// Whether the model was trained to have its embeddings cut short (Matryoshka representation learning): the
    /// config lists `matryoshka_dimensions` or says `is_matryoshka` (SGLang refuses `dimensions` otherwise).
    public var isMatryoshka: Bool {
        matryoshkaDimensions != nil || (try? ConfigReader(raw).bool("is_matryoshka")) == true
    }

    /// The widths listed in `matryoshka_dimensions` (nil when absent: any width, if `isMatryoshka`).
    public var matryoshkaDimensions: [Int]? {
        guard let dims = try? ConfigReader(raw).intList("matryoshka_dimensions"), !dims.isEmpty else { return nil }
        return dims
    }
}
