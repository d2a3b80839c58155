import Foundation
import Imaging
import Models
import Tokenizers

/// What a vision-language model adds to a `LoadedModel`: the LLaVA vision tower and projector, the image
/// processor of its preprocessor_config.json, and the image token.
public struct VisionSupport: Sendable {
    /// The vision tower and projector (on the CPU backend, whatever device runs the language model).
    public let encoder: LlavaVisionEncoder
    /// The text of the image token (`<image>`), as prompts and chat templates write it; nil when the
    /// tokenizer has no name for `imageTokenIndex`.
    public let imageTokenText: String?
    let processor: VisionImageProcessor

    /// The id that stands for an image in prompts.
    public var imageTokenIndex: Int { encoder.config.imageTokenIndex }
    /// Embedding rows one image takes.
    public var imageFeatureLength: Int { encoder.config.imageFeatureLength }

    /// The vision part of a llava-hf folder around its loaded `encoder`.
    init(folder: String, encoder: LlavaVisionEncoder, tokenizer: Tokenizer?) throws {
        self.encoder = encoder
        imageTokenText = tokenizer?.idToToken(encoder.config.imageTokenIndex)
        processor = try VisionImageProcessor(folder: folder, vision: encoder.config.vision)
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
