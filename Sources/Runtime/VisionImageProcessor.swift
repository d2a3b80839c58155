import Foundation
import Imaging
import Models

/// The image processor of a vision model folder (preprocessor_config.json through Imaging's `VisionProcessor`;
/// the processor type's defaults when the file is absent), checked against the tower's input size.
struct VisionImageProcessor: Sendable {
    let processor: VisionProcessor
    let vision: VisionTowerConfig

    /// - Throws: `RuntimeError.invalidInput` when preprocessor_config.json is unreadable or invalid.
    init(folder: String, vision: VisionTowerConfig) throws {
        self.vision = vision
        let path = (folder as NSString).appendingPathComponent("preprocessor_config.json")
        let config: ImageProcessorConfig
        if FileManager.default.fileExists(atPath: path) {
            do {
                config = try ImageProcessorConfig(contentsOf: path)
            } catch {
                throw RuntimeError.invalidInput("\(path): \(error)")
            }
        } else {
            config = vision.kind == .siglip
                ? .siglip(height: vision.imageSize, width: vision.imageSize)
                : .clip(shortestEdge: vision.imageSize, crop: vision.imageSize)
        }
        processor = VisionProcessor(config: config)
    }

    /// The tower's `channels × side × side` pixel values of `image` (transformers' processor, no padding to a
    /// square: llava-hf checkpoints preprocess that way).
    /// - Throws: `RuntimeError.invalidInput` when preprocessing fails or yields another size than the tower takes.
    func pixelValues(_ image: RGBImage) throws -> [Float] {
        let pixels: PixelValues
        do {
            pixels = try processor.preprocess(image)
        } catch {
            throw RuntimeError.invalidInput("cannot preprocess the image: \(error)")
        }
        guard pixels.height == vision.imageSize, pixels.width == vision.imageSize else {
            throw RuntimeError.invalidInput(
                "the image processor gives \(pixels.height)×\(pixels.width) pixels; the vision tower takes \(vision.imageSize)×\(vision.imageSize)")
        }
        return pixels.data
    }
}

/// Reads an `image_data` string (a `data:` URI, raw base64 or a file path; SGLang's classification).
enum ImageSourceReader {
    /// - Throws: `RuntimeError.invalidInput` naming the problem (http(s) URLs are fetched by the server, not here).
    static func bytes(_ text: String) throws -> [UInt8] {
        let source = ImageSource(imageData: text)
        if case .url(let url) = source {
            throw RuntimeError.invalidInput("image URL \(url): the engine does not fetch URLs (the server does)")
        }
        do {
            return try source.loadBytes()
        } catch {
            throw RuntimeError.invalidInput("cannot read the image: \(error)")
        }
    }
}
