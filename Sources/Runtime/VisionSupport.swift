import Foundation
import Imaging
import Models
import Tokenizers

/// What a vision-language model adds to a `LoadedModel`: the LLaVA vision tower and projector, the image
/// processor of its preprocessor_config.json, and the image token.
public struct VisionSupport: Sendable {
    /// The LLaVA model (its `languageModel` is the `LoadedModel.model`).
    public let llava: LlavaModel
    /// The text of the image token (`<image>`), as prompts and chat templates write it; nil when the
    /// tokenizer has no name for `imageTokenIndex`.
    public let imageTokenText: String?
    let processor: VisionImageProcessor

    /// The id that stands for an image in prompts.
    public var imageTokenIndex: Int { llava.config.imageTokenIndex }
    /// Embedding rows one image takes.
    public var imageFeatureLength: Int { llava.config.imageFeatureLength }

    /// Loads the vision part of a llava-hf folder around an already loaded `llava`.
    init(folder: String, llava: LlavaModel, tokenizer: Tokenizer?) throws {
        self.llava = llava
        imageTokenText = tokenizer?.idToToken(llava.config.imageTokenIndex)
        processor = try VisionImageProcessor(folder: folder, vision: llava.config.vision)
    }

    /// Decodes and preprocesses one image into the tower's pixel values.
    /// - Throws: `RuntimeError.invalidInput` naming what is wrong with the image.
    func pixelValues(_ data: ImageData) throws -> [Float] {
        let bytes: [UInt8]
        switch data {
        case .bytes(let b):
            bytes = b
        case .source(let s):
            bytes = try ImageSourceReader.bytes(s)
        }
        let image: RGBImage
        do {
            image = try ImageDecoder.decode(bytes)
        } catch {
            throw RuntimeError.invalidInput("cannot decode the image: \(error)")
        }
        return try processor.pixelValues(image)
    }
}
