/// A prompt as text (tokenized by the engine) or as token ids.
public enum PromptInput: Sendable, Hashable {
    /// Text, encoded with the model's tokenizer (special tokens added as the tokenizer does by default).
    case text(String)
    /// Token ids, used as they are.
    case ids([Int])
}

/// One generation request to the `Engine` (SGLang's `GenerateReqInput` for a single prompt).
///
/// Batches and `n > 1` are expanded by the caller (`Engine.generateParallel`), each item with its own rid.
public struct GenerateRequest: Sendable, Hashable {
    /// Request id (unique among running requests; `abort(rid:)` uses it).
    public var rid: String
    /// The prompt.
    public var prompt: PromptInput
    /// Sampling and stopping settings.
    public var sampling: SamplingParams
    /// Report token log-probabilities.
    public var returnLogprob: Bool
    /// First prompt position whose logprob is reported; -1 = output tokens only.
    public var logprobStartLen: Int
    /// Top alternatives per position in the logprob lists (0: none).
    public var topLogprobsNum: Int
    /// Decode the token text into the logprob entries.
    public var returnTextInLogprobs: Bool
    /// Stream intermediate chunks (otherwise only the final output is produced).
    public var stream: Bool
    /// Which of `n` parallel samples this is (mixed into the sampling seed).
    public var sampleIndex: Int
    /// Abort the request after this many seconds (nil: no limit).
    public var timeout: Double?
    /// Ids whose logprobs are reported at every logprob position (`token_ids_logprob`, SGLang HEAD; with
    /// `returnLogprob`), in `inputTokenIdsLogprobs` / `outputTokenIdsLogprobs`.
    public var tokenIdsLogprob: [Int]?
    /// Images for the prompt's image tokens, in order (`image_data`; vision-language models only).
    public var imageData: [ImageData] = []
    /// An embedding request's `dimensions` (set by `Engine.prepare(_: EmbeddingRequest)`).
    var embeddingDimensions: Int?

    /// A request with SGLang's defaults.
    public init(rid: String, prompt: PromptInput, sampling: SamplingParams = SamplingParams(),
                returnLogprob: Bool = false, logprobStartLen: Int = -1, topLogprobsNum: Int = 0,
                returnTextInLogprobs: Bool = false, stream: Bool = false, sampleIndex: Int = 0,
                timeout: Double? = nil) {
        self.rid = rid
        self.prompt = prompt
        self.sampling = sampling
        self.returnLogprob = returnLogprob
        self.logprobStartLen = logprobStartLen
        self.topLogprobsNum = topLogprobsNum
        self.returnTextInLogprobs = returnTextInLogprobs
        self.stream = stream
        self.sampleIndex = sampleIndex
        self.timeout = timeout
    }
}
