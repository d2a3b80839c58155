/// How the scheduler orders the waiting queue (`--schedule-policy`, spec §7.8).
public enum SchedulePolicy: String, Sendable, CaseIterable {
    /// Longest cached prefix first (cache-aware).
    case lpm
    /// Arrival order.
    case fcfs
    /// Depth-first over the radix tree, heavier subtrees first.
    case dfsWeight = "dfs-weight"
    /// Longest output (max_new_tokens) first.
    case lof
    /// Random order.
    case random
}

/// The engine's settings: the subset of SGLang's server arguments that shape the runtime (spec §6).
public struct EngineOptions: Sendable, Hashable {
    /// Context length override (nil: the model's `max_position_embeddings`).
    public var contextLength: Int?
    /// KV cache size in tokens (nil: from `memFractionStatic`).
    public var maxTotalTokens: Int?
    /// Fraction of the machine's memory for the KV cache (nil: 0.1 on the CPU, at most four full contexts).
    public var memFractionStatic: Double?
    /// Most requests running at once (nil: derived from the KV size, at most 256).
    public var maxRunningRequests: Int?
    /// Longest prefill chunk in tokens; nil or ≤ 0 disables chunking.
    public var chunkedPrefillSize: Int?
    /// Most new prompt tokens admitted in one prefill batch.
    public var maxPrefillTokens: Int
    /// Waiting-queue order.
    public var schedulePolicy: SchedulePolicy
    /// Turn the prefix cache off (every request prefills its whole prompt).
    public var disableRadixCache: Bool
    /// Run decode requests inside prefill batches.
    public var enableMixedChunk: Bool
    /// Turn overlap scheduling off (`--disable-overlap-schedule`, spec §7.13): by default, on a model that launches
    /// decode steps ahead (CUDA on one GPU), the scheduler prepares step N+1 and processes step N−1's tokens while
    /// the device runs step N.
    public var disableOverlapSchedule: Bool
    /// Stream a chunk every this many tokens.
    public var streamInterval: Int
    /// Seed of the engine's random stream (requests without a sampling seed draw theirs from it).
    public var randomSeed: UInt64
    /// Disable jump-forward for regex / JSON-schema constrained requests.
    public var disableRegexJumpForward: Bool
    /// Scales the KV reservation for running requests' future tokens (higher: fewer retractions).
    public var scheduleConservativeness: Double
    /// Turn the grammar token budget off (`--disable-grammar-token-budget`, an extension of this port). With
    /// the budget on (the default), a constrained request's mask allows, near `max_new_tokens` (or the
    /// context end), only tokens that can still finish the match in time, so a request that hits the limit
    /// ends in a complete match instead of truncated JSON; off, masks are SGLang's plain grammar masks.
    public var disableGrammarTokenBudget: Bool
    /// SGLang's `--constrained-json-whitespace-pattern`: the regex for whitespace between JSON tokens in
    /// `json_schema` / `json_object` constraints (nil: outlines' `[ ]?`; "" allows none).
    public var constrainedJSONWhitespacePattern: String?

    /// SGLang's defaults (chunked prefill 8192, max prefill tokens 16384, policy lpm, stream interval 1).
    public init(contextLength: Int? = nil, maxTotalTokens: Int? = nil, memFractionStatic: Double? = nil,
                maxRunningRequests: Int? = nil, chunkedPrefillSize: Int? = 8192, maxPrefillTokens: Int = 16384,
                schedulePolicy: SchedulePolicy = .lpm, disableRadixCache: Bool = false, enableMixedChunk: Bool = false,
                disableOverlapSchedule: Bool = false, streamInterval: Int = 1, randomSeed: UInt64 = 42, disableRegexJumpForward: Bool = false,
                scheduleConservativeness: Double = 1, disableGrammarTokenBudget: Bool = false,
                constrainedJSONWhitespacePattern: String? = nil) {
        self.contextLength = contextLength
        self.maxTotalTokens = maxTotalTokens
        self.memFractionStatic = memFractionStatic
        self.maxRunningRequests = maxRunningRequests
        self.chunkedPrefillSize = chunkedPrefillSize
        self.maxPrefillTokens = maxPrefillTokens
        self.schedulePolicy = schedulePolicy
        self.disableRadixCache = disableRadixCache
        self.enableMixedChunk = enableMixedChunk
        self.disableOverlapSchedule = disableOverlapSchedule
        self.streamInterval = streamInterval
        self.randomSeed = randomSeed
        self.disableRegexJumpForward = disableRegexJumpForward
        self.scheduleConservativeness = scheduleConservativeness
        self.disableGrammarTokenBudget = disableGrammarTokenBudget
        self.constrainedJSONWhitespacePattern = constrainedJSONWhitespacePattern
    }
}

/// A snapshot of the engine's counters (`/get_server_info`, `/metrics`, tests).
public struct EngineStats: Sendable, Hashable {
    /// Requests in the running batch.
    public var runningRequests = 0
    /// Requests waiting for admission.
    public var waitingRequests = 0
    /// KV slots in the pool (slot 0 excluded).
    public var maxTotalTokens = 0
    /// Free KV slots.
    public var availableTokens = 0
    /// Slots held by the radix cache and unlocked (reclaimable).
    public var evictableTokens = 0
    /// Slots held by the radix cache and locked by running requests.
    public var protectedTokens = 0
    /// Prompt tokens of every admitted request (per admission).
    public var promptTokens = 0
    /// Of those, tokens served from the radix cache.
    public var cachedTokens = 0
    /// Prompt tokens actually run through the model (prefill and extend).
    public var prefilledTokens = 0
    /// Tokens generated.
    public var generatedTokens = 0
    /// Requests finished (any reason).
    public var finishedRequests = 0
    /// Requests retracted on decode memory pressure.
    public var retractions = 0
    /// Forward passes run.
    public var forwardPasses = 0
    /// Of those, decode steps, and the requests they carried (summed: the mean decode batch is the ratio).
    public var decodeSteps = 0
    public var decodedRequests = 0
    /// Seconds the scheduler spent inside the model's forward calls (a device model's included waiting for the
    /// device): the rest of a busy scheduler's time is host work on the critical path.
    public var forwardSeconds = 0.0
    /// Images run through the vision tower (an image whose rows all come from the cache is not).
    public var imagesEncoded = 0
    /// The current reservation ratio for running requests' future tokens.
    public var newTokenRatio = 0.0

    /// Cached / prompt tokens.
    public var cacheHitRate: Double { promptTokens == 0 ? 0 : Double(cachedTokens) / Double(promptTokens) }

    /// A snapshot with every counter zero.
    public init() {}
}
