import Compute
import Foundation
import JSON
import Models
import Tokenizers

extension ModelLoader {
    /// Loads a llava-hf folder (`model_type: "llava"`) as a text model plus `VisionSupport`; nil when the folder
    /// holds another model type.
    /// - Throws: `RuntimeError.invalidInput` for a LLaVA model on CUDA or with dummy weights (not supported:
    ///   the vision tower runs on the CPU backend from real weights), the loaders' errors otherwise.
    static func loadLlava(folder: String, loadFormat: LoadFormat, backend: any ComputeBackend,
                          device: DeviceSelection) throws -> LoadedModel? {
        let configPath = (folder as NSString).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: configPath),
              let json = try? JSONValue.parse(bytes: [UInt8](data)), LlavaConfig.isLlava(json) else { return nil }
        guard device.kind != .cuda else {
            throw RuntimeError.invalidInput("LLaVA models run on the CPU backend only (pass --device cpu)")
        }
        guard loadFormat == .auto else {
            throw RuntimeError.invalidInput("LLaVA models need their real weights (--load-format dummy is not supported)")
        }
        let config = try LlavaConfig(json: json)
        let llava = try LlavaModel(config: config, weights: try SafetensorsModel(folder: folder), backend: backend)
        let generation = try GenerationConfig.load(fromFolder: folder) ?? GenerationConfig()
        let hasTokenizer = ["tokenizer.json", "tokenizer_config.json"].contains {
            FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0))
        }
        let tokenizer = hasTokenizer ? try Tokenizer.load(from: folder) : nil
        let vision = try VisionSupport(folder: folder, llava: llava, tokenizer: tokenizer)
        return LoadedModel(config: config.text, model: llava.languageModel, generationConfig: generation,
                           tokenizer: tokenizer, vision: vision)
    }
}
