import ArgumentParser
import Foundation
import JSON
import Runtime

/// `sglang generate`: one completion on the CPU, streamed as it is generated.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a completion for a prompt (or token ids) with a model folder or .gguf file."
    )

    @Option(name: .long, help: "A Hugging Face model folder (config.json + safetensors) or a .gguf file.")
    var modelPath: String

    @Option(name: .long, help: "The prompt text.")
    var prompt: String?

    @Flag(name: .long, help: "Wrap --prompt in the model's chat template as a user message.")
    var chat = false

    @Option(name: .long, help: "Comma-separated prompt token ids, e.g. 1,2,3.")
    var inputIds: String?

    @Option(name: .long, help: "Most tokens to generate.")
    var maxNewTokens = 128

    @Option(name: .long, help: "Sampling temperature (< 1e-6: greedy). Default: generation_config, else 1.")
    var temperature: Double?

    @Option(name: .long, help: "Nucleus mass in (0, 1]. Default: generation_config, else 1.")
    var topP: Double?

    @Option(name: .long, help: "Top-k cut (-1: whole vocabulary). Default: generation_config, else -1.")
    var topK: Int?

    @Option(name: .long, help: "Min-p cut in [0, 1]. Default: generation_config, else 0.")
    var minP: Double?

    @Option(name: .long, help: "Seed of the sampling random stream.")
    var seed: UInt64 = 42

    @Option(name: .long, help: "Report this many top log-probabilities per step (with --json).")
    var topLogprobs = 0

    @Flag(name: .long, help: "Do not stop on EOS tokens.")
    var ignoreEos = false

    @Flag(name: .long, help: "Print {\"output_ids\", \"text\", \"top_logprobs\"} instead of streaming text.")
    var json = false

    @Option(name: .long, help: "auto (the model's weights) or dummy (seeded random weights).")
    var loadFormat: String = "auto"

    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        if (prompt == nil) == (inputIds == nil) { throw ValidationError("give exactly one of --prompt or --input-ids") }
        if chat && prompt == nil { throw ValidationError("--chat needs --prompt") }
        if LoadFormat(rawValue: loadFormat) == nil { throw ValidationError("--load-format must be auto or dummy") }
        if maxNewTokens < 0 { throw ValidationError("--max-new-tokens must be ≥ 0") }
        if topLogprobs < 0 { throw ValidationError("--top-logprobs must be ≥ 0") }
    }

    /// Parses "1,2,3" (spaces allowed).
    static func parseIds(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty else { throw ValidationError("--input-ids is empty") }
        return try parts.map { part in
            guard let id = Int(part), id >= 0 else {
                throw ValidationError("--input-ids: '\(part)' is not a non-negative integer")
            }
            return id
        }
    }

    func run() throws {
        do {
            let loaded = try ModelLoader.load(path: modelPath, loadFormat: LoadFormat(rawValue: loadFormat) ?? .auto,
                                              device: try deviceOptions.selection())
            let g = loaded.generationConfig
            let params = SamplingParams(
                temperature: temperature ?? g.temperature ?? 1, topP: topP ?? g.topP ?? 1,
                topK: topK ?? g.topK.map { $0 == 0 ? -1 : $0 } ?? -1, minP: minP ?? g.minP ?? 0, seed: seed)
            let request = TextGenerationRequest(
                prompt: prompt, chat: chat, inputIds: try inputIds.map(Self.parseIds), params: params,
                maxNewTokens: maxNewTokens, ignoreEOS: ignoreEos, topLogprobs: topLogprobs)
            let output = try TextGeneration.run(request, model: loaded) { piece in
                guard !json else { return }
                FileHandle.standardOutput.write(Data(piece.utf8))
            }
            if json {
                print(output.json.serialized(.python(indent: nil, ensureASCII: false, sortKeys: false)))
            } else if loaded.tokenizer == nil {
                // No tokenizer files beside the weights: the ids are the only output there is.
                print(output.result.outputIds.map(String.init).joined(separator: " "))
            } else {
                print("")
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
