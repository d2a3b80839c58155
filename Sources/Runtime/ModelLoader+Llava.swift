import CUDAModels
import Compute
import Foundation
import JSON
import Models
import Tokenizers

extension ModelLoader {
    /// Loads a llava-hf folder (`model_type: "llava"`) as its language model plus `VisionSupport`; nil when the
    /// folder holds another model type. The language model runs where `device` says (on CUDA, a device model that
    /// takes the image rows as embedding overrides); the vision tower and projector run on `backend`.
    /// - Throws: `RuntimeError.invalidInput` for `--load-format dummy` (the tower needs real weights), the
    ///   loaders' errors otherwise.
    static func loadLlava(folder: String, loadFormat: LoadFormat, seed: UInt64, backend: any ComputeBackend,
                          device: DeviceSelection) throws -> LoadedModel? {
        let configPath = (folder as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: configPath),
              let json = try? JSONValue.parse(bytes: [UInt8](data)), LlavaConfig.isLlava(json) else { return nil }
        guard loadFormat == .auto else {
            throw RuntimeError.invalidInput("LLaVA models need their real weights (--load-format dummy is not supported)")
        }
        let config = try LlavaConfig(json: json)
        let source = try SafetensorsModel(folder: folder)
        let text = try LlavaModel.textWeights(source)
        let model: any CausalModel = device.resolved == .cuda
            ? try CUDACausalLM(config: config.text, weights: text, options: device.cudaOptions, seed: seed)
            : try CausalLM(config: config.text, weights: text, backend: backend)
        let encoder = try LlavaVisionEncoder(config: config, weights: source, backend: backend)
        let generation = try GenerationConfig.load(fromFolder: folder) ?? GenerationConfig()
        let hasTokenizer = ["tokenizer.json", "tokenizer_config.json"].contains {
            FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0))
        }
        let tokenizer = hasTokenizer ? try Tokenizer.load(from: folder) : nil
        let vision = try VisionSupport(folder: folder, encoder: encoder, tokenizer: tokenizer)
        return LoadedModel(config: config.text, model: model, generationConfig: generation, tokenizer: tokenizer,
                           vision: vision)
    }
}
