import Compute
import Models

extension Scheduler {
    /// The embedding overrides of an extend batch: for each entry, the image rows among the positions it
    /// computes (a cached prefix may already hold part of an image). Each image's features are computed the
    /// first time a forward needs them and kept on the request (retraction re-prefills without recomputing).
    /// - Returns: nil when no entry computes an image row.
    func imageOverrides(_ batch: ExtendBatch) throws -> EmbeddingOverrides? {
        guard let vision = model.vision else { return nil }
        var overrides = EmbeddingOverrides(width: model.config.hiddenSize)
        var tokenStart = 0
        for (req, slots) in batch.entries {
            // Same token layout as runExtend: entries without a row add no tokens.
            guard req.row != nil else { continue }
            defer { tokenStart += slots.count }
            guard !req.images.isEmpty else { continue }
            let computed = req.kvLength..<(req.kvLength + slots.count)
            for i in req.images.indices where req.images[i].positions.overlaps(computed) {
                let image = req.images[i]
                let features: [Float]
                if let cached = image.features {
                    features = cached
                } else {
                    features = try vision.encoder.imageFeatures(pixelValues: image.pixelValues)
                    req.images[i].features = features
                    stats.imagesEncoded += 1
                }
                let width = overrides.width
                for p in image.positions.clamped(to: computed) {
                    let r = p - image.offset
                    overrides.append(tokenIndex: tokenStart + p - req.kvLength,
                                     row: features[(r * width)..<((r + 1) * width)])
                }
            }
        }
        return overrides.isEmpty ? nil : overrides
    }
}
