import Models

extension Engine {
    /// Decodes and preprocesses `request.imageData` and pads the prompt's image tokens (spec §9.2); nil for a
    /// request without images.
    /// - Throws: `RuntimeError.invalidInput` when the model takes no images, an image cannot be read, the image
    ///   tokens and images disagree, or the padded prompt is longer than the context.
    func multimodalPrompt(for request: GenerateRequest, promptIds ids: [Int]) throws -> MultimodalPrompt? {
        guard !request.imageData.isEmpty else { return nil }
        guard let vision = model.vision else {
            let name = model.config.architectures.first ?? model.config.modelType
            throw RuntimeError.invalidInput("model \(name) does not accept images (the request has image_data)")
        }
        var pixels: [[Float]] = []
        for (i, data) in request.imageData.enumerated() {
            do {
                pixels.append(try vision.pixelValues(data))
            } catch RuntimeError.invalidInput(let message) where request.imageData.count > 1 {
                throw RuntimeError.invalidInput("image \(i): \(message)")
            }
        }
        let hashes = pixels.map(MultimodalPrompt.hash)
        let length = vision.imageFeatureLength
        let (padded, offsets) = try MultimodalPrompt.pad(
            ids, imageToken: vision.imageTokenIndex, hashes: hashes, featureLength: length,
            vocabSize: model.config.vocabSize)
        guard padded.count <= maxRequestInputLength else {
            throw RuntimeError.invalidInput(
                "the input (\(padded.count) tokens with \(pixels.count) image(s) of \(length) tokens) is longer than the model's context length (\(contextLength) tokens)")
        }
        let images = (0..<pixels.count).map {
            RequestImage(pixelValues: pixels[$0], hash: hashes[$0], offset: offsets[$0], length: length, features: nil)
        }
        return MultimodalPrompt(images: images, originIds: ids, paddedIds: padded)
    }
}

extension Engine {
    /// The prompt length after image padding: each of the first `imageCount` image tokens of `ids` becomes the
    /// image's feature rows (the plain length for a text model).
    public func paddedPromptLength(_ ids: [Int], imageCount: Int) -> Int {
        guard imageCount > 0, let vision = model.vision else { return ids.count }
        let tokens = ids.lazy.filter { $0 == vision.imageTokenIndex }.count
        return ids.count + min(tokens, imageCount) * (vision.imageFeatureLength - 1)
    }
}
