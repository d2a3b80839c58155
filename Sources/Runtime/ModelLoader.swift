import Compute
import CUDAModels
import Foundation
import Models
import Tokenizers

/// How weights are obtained (`--load-format`).
public enum LoadFormat: String, Sendable, CaseIterable {
    /// safetensors for a Hugging Face folder, the file's own tensors for a .gguf.
    case auto
    /// Seeded random weights of the config's shapes (benchmarks and smoke tests).
    case dummy
}

/// A model ready to run: its config, the network, stop tokens and the tokenizer when the files have one.
public struct LoadedModel: Sendable {
    /// The decoded architecture config.
    public let config: ModelConfig
    /// The network.
    public let model: any CausalModel
    /// generation_config.json (empty for GGUF files, which carry their stop token in the tokenizer).
    public let generationConfig: GenerationConfig
    /// The tokenizer, nil when a folder has no tokenizer files.
    public internal(set) var tokenizer: Tokenizer?
    /// The vision tower, projector and image processor of a vision-language model (LLaVA); nil for text models.
    public internal(set) var vision: VisionSupport? = nil
    /// An embedding model (`--is-embedding`, or an embedding architecture): requests return the pooled last
    /// hidden state instead of generating (spec §9.3).
    public internal(set) var isEmbedding = false

    /// Every id that ends generation: the tokenizer's EOS plus generation_config's EOS list.
    public var eosTokenIds: Set<Int> {
        var ids = Set(generationConfig.eosTokenIds)
        if let eos = tokenizer?.eosTokenId { ids.insert(eos) }
        return ids
    }
}

/// Loads `--model-path`: a Hugging Face folder (config.json + safetensors) or a .gguf file.
public enum ModelLoader {
    /// Loads the model at `path`.
    /// - Parameters:
    ///   - loadFormat: `.dummy` replaces the weights with seeded random values of the same shapes.
    ///   - seed: the dummy weights' seed.
    /// - Throws: `RuntimeError.modelNotFound` for a missing path, the loaders' errors (naming the file or
    ///   tensor) otherwise.
    ///   - device: where the model runs; on CUDA, dummy weights are generated on the device.
    ///   - isEmbedding: serve the model as an embedding model (`--is-embedding`); architectures that are embedding
    ///     models by themselves (`MistralModel`, `LlamaEmbeddingModel`, …) are served so without it.
    public static func load(path: String, loadFormat: LoadFormat = .auto, seed: UInt64 = 0,
                            backend: any ComputeBackend = CPUBackend(), device: DeviceSelection = DeviceSelection(),
                            isEmbedding: Bool = false) throws -> LoadedModel {
        let onCUDA = device.resolved == .cuda
        if !onCUDA, device.tensorParallelSize > 1 {
            throw RuntimeError.invalidInput(
                "--tp-size \(device.tensorParallelSize) splits a model over CUDA GPUs, and none was found (use --tp-size 1 on the CPU)")
        }
        func build(_ config: ModelConfig, _ weights: @autoclosure () throws -> any WeightSource) throws -> any CausalModel {
            if onCUDA {
                return try CUDACausalLM(config: config, weights: loadFormat == .dummy ? nil : try weights(),
                                        options: device.cudaOptions, seed: seed)
            }
            return try CausalLM(config: config, weights: try weights(), backend: backend)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RuntimeError.modelNotFound("\(path) does not exist")
        }
        if isDirectory.boolValue {
            if let llava = try loadLlava(folder: path, loadFormat: loadFormat, seed: seed, backend: backend, device: device) {
                guard !isEmbedding else {
                    throw RuntimeError.invalidInput("--is-embedding serves text models; \(path) is a vision-language model")
                }
                return llava
            }
            var config = try ModelConfig.load(from: path)
            let embedding = isEmbedding || config.isEmbeddingArchitecture
            var weights: (any WeightSource)?
            if loadFormat != .dummy {
                let stored = try SafetensorsModel(folder: path)
                weights = BareModelWeightSource.isBare(stored) ? BareModelWeightSource(stored) : stored
            }
            // An embedding checkpoint has no LM head: the embedding matrix stands in (no copy), and its logits are
            // never read.
            if embedding, let weights, !weights.contains("lm_head.weight") { config.tieWordEmbeddings = true }
            let model = try build(config, weights ?? DummyWeightSource(config: config, seed: seed))
            let generation = try GenerationConfig.load(fromFolder: path) ?? GenerationConfig()
            let hasTokenizer = ["tokenizer.json", "tokenizer_config.json"].contains {
                FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent($0))
            }
            let tokenizer = hasTokenizer ? try Tokenizer.load(from: path) : nil
            var loaded = LoadedModel(config: config, model: model, generationConfig: generation, tokenizer: tokenizer)
            loaded.isEmbedding = embedding
            return loaded
        }
        guard path.lowercased().hasSuffix(".gguf") else {
            throw RuntimeError.modelNotFound("\(path) is neither a model folder (config.json + safetensors) nor a .gguf file")
        }
        let source = try GGUFWeightSource(path: path)
        let embedding = try source.servesEmbeddings(asked: isEmbedding)
        let model = try build(source.config, loadFormat == .dummy ? DummyWeightSource(config: source.config, seed: seed) : source)
        let tokenizer = try Tokenizer.load(from: path)
        var loaded = LoadedModel(config: source.config, model: model, generationConfig: GenerationConfig(), tokenizer: tokenizer)
        loaded.isEmbedding = embedding
        return loaded
    }
}
