/// One `[logprob, token_id, text]` entry of SGLang's logprob lists (`logprob` is nil for the first prompt
/// token, which has no context; `text` is filled when `return_text_in_logprobs`).
public struct LogprobEntry: Sendable, Hashable {
    /// Natural-log probability under the model's distribution (raw logits, before temperature).
    public var logprob: Double?
    /// Token id.
    public var id: Int
    /// The token's text, when requested.
    public var text: String?

    /// An entry.
    public init(logprob: Double?, id: Int, text: String? = nil) {
        self.logprob = logprob
        self.id = id
        self.text = text
    }
}

/// The state of a request as the engine reports it: every field is cumulative (the whole output so far),
/// as in SGLang's stream chunks; the last one has `finishReason` set.
public struct GenerateOutput: Sendable, Hashable {
    /// Request id.
    public var rid: String
    /// The output text so far (stop string trimmed on the final chunk unless `no_stop_trim`).
    public var text: String
    /// Every generated id so far.
    public var outputIds: [Int]
    /// Prompt length in tokens.
    public var promptTokens: Int
    /// Generated tokens (jump-forward tokens included).
    public var completionTokens: Int
    /// Tokens actually sampled (jump-forward tokens excluded).
    public var completionTokensWithoutJumpForward: Int
    /// Prompt tokens served from the radix cache.
    public var cachedTokens: Int
    /// nil while running.
    public var finishReason: FinishReason?
    /// Seconds from arrival to finish (final chunk only).
    public var e2eLatency: Double?
    /// Times this request was retracted and resumed.
    public var retractions: Int
    /// Prompt-token logprobs from `logprob_start_len` (when `return_logprob`).
    public var inputTokenLogprobs: [LogprobEntry]?
    /// Output-token logprobs (when `return_logprob`).
    public var outputTokenLogprobs: [LogprobEntry]?
    /// Top alternatives per prompt position (nil entry where there is none).
    public var inputTopLogprobs: [[LogprobEntry]?]?
    /// Top alternatives per output position.
    public var outputTopLogprobs: [[LogprobEntry]?]?
    /// The `token_ids_logprob` ids' entries per prompt position (nil entry where there is none).
    public var inputTokenIdsLogprobs: [[LogprobEntry]?]?
    /// The `token_ids_logprob` ids' entries per output position.
    public var outputTokenIdsLogprobs: [[LogprobEntry]?]?
    /// Mean logprob of the reported prompt tokens.
    public var normalizedPromptLogprob: Double?
    /// An embedding model's result (final chunk): the last token's hidden state, L2-normalized.
    public var embedding: [Float]?

    /// An output with nothing generated yet.
    public init(rid: String, promptTokens: Int) {
        self.rid = rid
        text = ""
        outputIds = []
        self.promptTokens = promptTokens
        completionTokens = 0
        completionTokensWithoutJumpForward = 0
        cachedTokens = 0
        finishReason = nil
        e2eLatency = nil
        retractions = 0
    }

    /// Whether this is the final chunk.
    public var isFinished: Bool { finishReason != nil }
}
