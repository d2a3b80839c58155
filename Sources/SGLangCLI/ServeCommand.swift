import ArgumentParser
import Foundation
import Runtime
import Server

/// `sglang serve` (alias `launch-server`): SGLang's native and OpenAI-compatible HTTP API for one model.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over SGLang's native API and the OpenAI-compatible API.",
        aliases: ["launch-server"]
    )

    @Option(name: [.customLong("model-path"), .customLong("model")], help: "A Hugging Face model folder or a .gguf file.")
    var modelPath: String

    @Option(name: .long, help: "The tokenizer's folder or file (default: the model path).")
    var tokenizerPath: String?

    @Option(name: .long, help: "Host to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0: any free port).")
    var port = 30000

    @Option(name: .long, help: "The model name in OpenAI responses (default: the model path).")
    var servedModelName: String?

    @Option(name: .long, help: "Context length (default: the model's).")
    var contextLength: Int?

    @Option(name: .long, help: "Chat template: a built-in name (chatml, llama-2, llama-3, vicuna_v1.1), a .json or a .jinja file.")
    var chatTemplate: String?

    @Option(name: .long, help: "Fraction of memory for the KV cache.")
    var memFractionStatic: Double?

    @Option(name: .long, help: "KV cache size in tokens.")
    var maxTotalTokens: Int?

    @Option(name: .long, help: "Most requests running at once.")
    var maxRunningRequests: Int?

    @Option(name: .long, help: "Longest prefill chunk in tokens (≤ 0 disables chunking).")
    var chunkedPrefillSize = 8192

    @Option(name: .long, help: "Most new prompt tokens in one prefill batch.")
    var maxPrefillTokens = 16384

    @Option(name: .long, help: "Waiting-queue order: lpm, fcfs, dfs-weight, lof, random.")
    var schedulePolicy = "lpm"

    @Option(name: .long, help: "KV reservation scale for running requests (higher: fewer retractions).")
    var scheduleConservativeness = 1.0

    @Flag(name: .long, help: "Turn the prefix (radix) cache off.")
    var disableRadixCache = false

    @Flag(name: .long, help: "Run decode requests inside prefill batches.")
    var enableMixedChunk = false

    @Flag(name: .long, help: "Serve the model as an embedding model: /encode and /v1/embeddings return the last token's final hidden state, L2-normalized; nothing is generated. Architectures such as MistralModel and LlamaEmbeddingModel are embedding models without it.")
    var isEmbedding = false

    @Flag(name: .long, help: "Turn overlap scheduling off (on by default where the model launches decode steps ahead: CUDA on one GPU).")
    var disableOverlapSchedule = false

    @Flag(name: .long, help: "Disable jump-forward for constrained requests.")
    var disableRegexJumpForward = false

    @Flag(name: .long, help: "Turn off the grammar token budget: by default, near max_new_tokens a constrained request may only pick tokens that can still finish its regex / JSON schema in time, so it ends in a complete match instead of truncated output (an extension of SGLang).")
    var disableGrammarTokenBudget = false

    @Option(name: .long, help: "Regex for whitespace between JSON tokens in json_schema constraints (default: outlines' \"[ ]?\"; \"\" for compact JSON).")
    var constrainedJsonWhitespacePattern: String?

    @Option(name: .long, help: "Stream a chunk every this many tokens.")
    var streamInterval = 1

    @Option(name: .long, help: "Require 'Authorization: Bearer KEY' on every route but /health.")
    var apiKey: String?

    @Option(name: .long, help: "debug, info, warning, error or critical.")
    var logLevel = "info"

    @Flag(name: .long, help: "Log every request's inputs and outputs.")
    var logRequests = false

    @Option(name: .long, help: "Seed of the engine's random stream (default: random).")
    var randomSeed: UInt64?

    @Option(name: .long, help: "auto, safetensors, gguf or dummy (random weights).")
    var loadFormat = "auto"

    @OptionGroup var deviceOptions: DeviceOptions

    @Flag(name: .long, help: "Serve Prometheus metrics at /metrics.")
    var enableMetrics = false

    @Flag(name: .long, help: "Report cached prompt tokens in OpenAI usage (prompt_tokens_details).")
    var enableCacheReport = false

    @Option(name: .long, help: "Largest accepted request body in bytes.")
    var maxRequestBodyBytes = 32 << 20

    @Option(name: .long, help: "Default per-request timeout in seconds (a request's own 'timeout' overrides it).")
    var requestTimeout: Double?

    func run() async throws {
        guard let policy = SchedulePolicy(rawValue: schedulePolicy) else {
            throw ValidationError("--schedule-policy must be one of \(SchedulePolicy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var a = ServerArguments(modelPath: modelPath)
        a.tokenizerPath = tokenizerPath
        a.host = host
        a.port = port
        a.servedModelName = servedModelName
        a.contextLength = contextLength
        a.chatTemplate = chatTemplate
        a.memFractionStatic = memFractionStatic
        a.maxTotalTokens = maxTotalTokens
        a.maxRunningRequests = maxRunningRequests
        a.chunkedPrefillSize = chunkedPrefillSize
        a.maxPrefillTokens = maxPrefillTokens
        a.schedulePolicy = policy
        a.scheduleConservativeness = scheduleConservativeness
        a.disableRadixCache = disableRadixCache
        a.enableMixedChunk = enableMixedChunk
        a.disableOverlapSchedule = disableOverlapSchedule
        a.isEmbedding = isEmbedding
        a.disableRegexJumpForward = disableRegexJumpForward
        a.disableGrammarTokenBudget = disableGrammarTokenBudget
        a.constrainedJSONWhitespacePattern = constrainedJsonWhitespacePattern
        a.streamInterval = streamInterval
        a.apiKey = apiKey
        a.logLevel = logLevel
        a.logRequests = logRequests
        a.randomSeed = randomSeed
        a.loadFormat = loadFormat
        a.dtype = deviceOptions.dtype
        a.device = deviceOptions.device
        a.disableCUDAGraph = deviceOptions.disableCudaGraph
        a.cudaGraphMaxBatchSize = deviceOptions.cudaGraphMaxBs
        a.tensorParallelSize = deviceOptions.tpSize
        a.baseGPUId = deviceOptions.baseGpuId
        a.enableMetrics = enableMetrics
        a.enableCacheReport = enableCacheReport
        a.maxRequestBodyBytes = maxRequestBodyBytes
        a.requestTimeout = requestTimeout
        do {
            let server = try SGLangServer.load(a)
            try await server.start(signals: [.sigterm, .sigint])
            try await server.wait()
            await server.stop()
        } catch let error as ServerError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
