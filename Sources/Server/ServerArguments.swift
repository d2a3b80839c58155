import Foundation
import JSON
import Runtime

/// `sglang serve`'s settings: SGLang's server arguments that apply to this runtime (spec §6), with SGLang's
/// names (in `json`) and defaults.
public struct ServerArguments: Sendable {
    /// `--model-path`: a Hugging Face model folder or a .gguf file.
    public var modelPath: String
    /// `--tokenizer-path` (nil: the model path).
    public var tokenizerPath: String?
    /// `--host`.
    public var host: String = "127.0.0.1"
    /// `--port` (0: any free port; the server reports the one it bound).
    public var port: Int = 30000
    /// `--served-model-name` (nil: the model path).
    public var servedModelName: String?
    /// `--context-length` (nil: the model's).
    public var contextLength: Int?
    /// `--chat-template`: a built-in conversation template name, a FastChat-style .json file or a .jinja file
    /// (nil: the tokenizer's own Jinja template).
    public var chatTemplate: String?
    /// `--mem-fraction-static` (nil: the engine's CPU default).
    public var memFractionStatic: Double?
    /// `--max-total-tokens`.
    public var maxTotalTokens: Int?
    /// `--max-running-requests`.
    public var maxRunningRequests: Int?
    /// `--chunked-prefill-size` (≤ 0 disables chunking).
    public var chunkedPrefillSize: Int = 8192
    /// `--max-prefill-tokens`.
    public var maxPrefillTokens: Int = 16384
    /// `--schedule-policy`.
    public var schedulePolicy: SchedulePolicy = .lpm
    /// `--schedule-conservativeness`.
    public var scheduleConservativeness: Double = 1
    /// `--disable-radix-cache`.
    public var disableRadixCache = false
    /// `--enable-mixed-chunk`.
    public var enableMixedChunk = false
    /// `--disable-overlap-schedule`.
    public var disableOverlapSchedule = false
    /// `--disable-regex-jump-forward`.
    public var disableRegexJumpForward = false
    /// `--disable-grammar-token-budget` (an extension: by default constrained outputs are kept finishable
    /// within `max_new_tokens`, see `EngineOptions.disableGrammarTokenBudget`).
    public var disableGrammarTokenBudget = false
    /// `--constrained-json-whitespace-pattern` (nil: outlines' `[ ]?`).
    public var constrainedJSONWhitespacePattern: String?
    /// `--stream-interval`.
    public var streamInterval: Int = 1
    /// `--api-key`: every route but `/health` then needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// `--log-level`: debug, info, warning, error or critical.
    public var logLevel: String = "info"
    /// `--log-requests`: log every request's inputs and outputs.
    public var logRequests = false
    /// `--random-seed` (nil: drawn at startup).
    public var randomSeed: UInt64?
    /// `--load-format`: auto, dummy (gguf and safetensors mean auto).
    public var loadFormat: String = "auto"
    /// `--dtype`: auto or bfloat16 (bf16 on CUDA), float or float32 (the CPU backend always computes in float32).
    public var dtype: String = "auto"
    /// `--device`: auto (CUDA when a GPU is found), cpu or cuda.
    public var device: String = "auto"
    /// `--disable-cuda-graph`: decode without CUDA graphs.
    public var disableCUDAGraph = false
    /// `--cuda-graph-max-bs`: the largest decode batch replayed from a CUDA graph.
    public var cudaGraphMaxBatchSize = 160
    /// `--tp-size`: GPUs the model is split over (tensor parallelism, CUDA only).
    public var tensorParallelSize = 1
    /// `--base-gpu-id`: the first GPU used (rank i of the group runs on GPU base + i).
    public var baseGPUId = 0
    /// `--is-embedding`: serve the model as an embedding model (`/encode`, `/v1/embeddings`; no generation).
    public var isEmbedding = false
    /// `--enable-metrics`: serve Prometheus metrics at `/metrics`.
    public var enableMetrics = false
    /// `--enable-cache-report`: add `prompt_tokens_details.cached_tokens` to OpenAI usage.
    public var enableCacheReport = false
    /// Largest accepted request body in bytes (`--max-request-body-bytes`, an extension of this port).
    public var maxRequestBodyBytes: Int = 32 << 20
    /// Default per-request timeout in seconds (`--request-timeout`, an extension; a request's own `timeout`
    /// field overrides it). nil: no limit.
    public var requestTimeout: Double?

    /// Arguments for `modelPath` with SGLang's defaults.
    public init(modelPath: String) {
        self.modelPath = modelPath
    }

    /// The name `/v1/models` and responses report.
    public var modelName: String { servedModelName ?? modelPath }

    /// The weight format to load.
    /// - Throws: `ServerError` (400) for an unknown format.
    public func parsedLoadFormat() throws -> LoadFormat {
        switch loadFormat {
        case "auto", "gguf", "safetensors": return .auto
        case "dummy": return .dummy
        default:
            throw ServerError.badRequest("--load-format must be one of auto, safetensors, gguf, dummy; found \(loadFormat)")
        }
    }

    /// `--device`, `--dtype`, the CUDA graph flags, `--tp-size` and `--base-gpu-id`, parsed.
    /// - Throws: `ServerError` (400) naming the flag.
    public func deviceSelection() throws -> DeviceSelection {
        do {
            return try DeviceSelection(device: device, dtype: dtype, disableCUDAGraph: disableCUDAGraph,
                                       cudaGraphMaxBatchSize: cudaGraphMaxBatchSize,
                                       tensorParallelSize: tensorParallelSize, baseGPUId: baseGPUId)
        } catch let error as RuntimeError {
            throw ServerError.badRequest("\(error)")
        }
    }

    /// Checks the values that the engine does not check itself.
    /// - Throws: `ServerError` naming the flag.
    public func validate() throws {
        _ = try parsedLoadFormat()
        _ = try deviceSelection()
        guard ["debug", "info", "warning", "error", "critical"].contains(logLevel.lowercased()) else {
            throw ServerError.badRequest("--log-level must be one of debug, info, warning, error, critical; found \(logLevel)")
        }
        guard (0...65535).contains(port) else { throw ServerError.badRequest("--port must be in 0...65535, found \(port)") }
        if let f = memFractionStatic, !(f > 0 && f < 1) {
            throw ServerError.badRequest("--mem-fraction-static must be in (0, 1), found \(f)")
        }
        if let n = maxTotalTokens, n <= 16 { throw ServerError.badRequest("--max-total-tokens must be > 16, found \(n)") }
        if let n = maxRunningRequests, n < 1 { throw ServerError.badRequest("--max-running-requests must be ≥ 1, found \(n)") }
        if let n = contextLength, n < 2 { throw ServerError.badRequest("--context-length must be ≥ 2, found \(n)") }
        guard streamInterval >= 1 else { throw ServerError.badRequest("--stream-interval must be ≥ 1, found \(streamInterval)") }
        guard maxRequestBodyBytes >= 1024 else {
            throw ServerError.badRequest("--max-request-body-bytes must be ≥ 1024, found \(maxRequestBodyBytes)")
        }
        if let t = requestTimeout, !(t > 0) { throw ServerError.badRequest("--request-timeout must be > 0, found \(t)") }
        if let key = apiKey, key.isEmpty { throw ServerError.badRequest("--api-key must not be empty") }
    }

    /// The engine settings these arguments describe (`seed`: the resolved random seed).
    public func engineOptions(seed: UInt64) -> EngineOptions {
        EngineOptions(
            contextLength: contextLength, maxTotalTokens: maxTotalTokens, memFractionStatic: memFractionStatic,
            maxRunningRequests: maxRunningRequests, chunkedPrefillSize: chunkedPrefillSize > 0 ? chunkedPrefillSize : nil,
            maxPrefillTokens: maxPrefillTokens, schedulePolicy: schedulePolicy, disableRadixCache: disableRadixCache,
            enableMixedChunk: enableMixedChunk, disableOverlapSchedule: disableOverlapSchedule, streamInterval: streamInterval, randomSeed: seed,
            disableRegexJumpForward: disableRegexJumpForward, scheduleConservativeness: scheduleConservativeness,
            disableGrammarTokenBudget: disableGrammarTokenBudget,
            constrainedJSONWhitespacePattern: constrainedJSONWhitespacePattern)
    }

    /// The arguments as SGLang's `ServerArgs` dict (`/get_server_info`); the API key is never echoed.
    public func json(seed: UInt64) -> JSONObject {
        func opt<T>(_ v: T?, _ f: (T) -> JSONValue) -> JSONValue { v.map(f) ?? .null }
        return JSONObject([
            ("model_path", .string(modelPath)),
            ("tokenizer_path", .string(tokenizerPath ?? modelPath)),
            ("load_format", .string(loadFormat)),
            ("dtype", .string(dtype)),
            ("device", .string((try? deviceSelection().resolved.rawValue) ?? device)),
            ("tp_size", .int(tensorParallelSize)),
            ("base_gpu_id", .int(baseGPUId)),
            ("context_length", opt(contextLength) { .int($0) }),
            ("served_model_name", .string(modelName)),
            ("chat_template", opt(chatTemplate) { .string($0) }),
            ("host", .string(host)),
            ("port", .int(port)),
            ("mem_fraction_static", opt(memFractionStatic) { .double($0) }),
            ("max_running_requests", opt(maxRunningRequests) { .int($0) }),
            ("max_total_tokens", opt(maxTotalTokens) { .int($0) }),
            ("chunked_prefill_size", .int(chunkedPrefillSize)),
            ("max_prefill_tokens", .int(maxPrefillTokens)),
            ("schedule_policy", .string(schedulePolicy.rawValue)),
            ("schedule_conservativeness", .double(scheduleConservativeness)),
            ("stream_interval", .int(streamInterval)),
            ("random_seed", .int(Int(truncatingIfNeeded: seed))),
            ("log_level", .string(logLevel)),
            ("log_requests", .bool(logRequests)),
            ("api_key", apiKey == nil ? .null : .string("<hidden>")),
            ("disable_radix_cache", .bool(disableRadixCache)),
            ("disable_regex_jump_forward", .bool(disableRegexJumpForward)),
            ("disable_grammar_token_budget", .bool(disableGrammarTokenBudget)),
            ("constrained_json_whitespace_pattern", opt(constrainedJSONWhitespacePattern) { .string($0) }),
            ("enable_mixed_chunk", .bool(enableMixedChunk)),
            ("disable_overlap_schedule", .bool(disableOverlapSchedule)),
            ("enable_metrics", .bool(enableMetrics)),
            ("is_embedding", .bool(isEmbedding)),
            ("enable_cache_report", .bool(enableCacheReport)),
            ("max_request_body_bytes", .int(maxRequestBodyBytes)),
            ("request_timeout", opt(requestTimeout) { .double($0) }),
        ])
    }
}
