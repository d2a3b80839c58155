/// Embedding rows that replace the token-table lookup for some tokens of a forward: LLaVA's image features
/// take the place of the prompt's image tokens (transformers' `inputs_embeds` with the image rows spliced in).
public struct EmbeddingOverrides: Sendable, Hashable {
    /// Flat token indices of the batch (into `ForwardBatch.inputIds`), one per row of `values`.
    public var tokenIndices: [Int]
    /// Values per row (the model's hidden size).
    public var width: Int
    /// `tokenIndices.count × width` row-major values.
    public var values: [Float]

    /// Creates overrides; `validate` checks them against a batch.
    public init(tokenIndices: [Int] = [], width: Int, values: [Float] = []) {
        self.tokenIndices = tokenIndices
        self.width = width
        self.values = values
    }

    /// Whether no row is replaced.
    public var isEmpty: Bool { tokenIndices.isEmpty }

    /// Appends the replacement of token `index` (`row.count == width`).
    public mutating func append(tokenIndex index: Int, row: ArraySlice<Float>) {
        tokenIndices.append(index)
        values.append(contentsOf: row)
    }

    /// Checks the rows fit a forward of `tokenCount` tokens and `hiddenSize` wide embeddings.
    public func validate(tokenCount: Int, hiddenSize: Int) throws {
        guard width == hiddenSize else {
            throw ComputeError.shapeMismatch("embedding overrides are \(width) wide; the model's hidden size is \(hiddenSize)")
        }
        guard values.count == tokenIndices.count * width else {
            throw ComputeError.shapeMismatch(
                "embedding overrides: \(values.count) values for \(tokenIndices.count) rows of \(width)")
        }
        if let bad = tokenIndices.first(where: { $0 < 0 || $0 >= tokenCount }) {
            throw ComputeError.invalidBatch("embedding override for token \(bad) outside the batch's \(tokenCount) tokens")
        }
    }

    /// Writes the rows over `embeddings` (`tokens × width`, already looked up from the table).
    public func apply(to embeddings: FloatBuffer) {
        values.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress else { return }
            for (i, t) in tokenIndices.enumerated() {
                (embeddings.pointer + t * width).update(from: base + i * width, count: width)
            }
        }
    }
}
