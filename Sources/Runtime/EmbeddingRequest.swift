/// One prompt to embed (SGLang's `EmbeddingReqInput` for a single text or id list).
public struct EmbeddingRequest: Sendable, Hashable {
    /// Request id (unique among running requests).
    public var rid: String
    /// The text or ids to embed.
    public var prompt: PromptInput
    /// Keep only the first `dimensions` values, normalized after the cut (Matryoshka models); nil: the whole
    /// hidden state.
    public var dimensions: Int?
    /// Abort the request after this many seconds (nil: no limit).
    public var timeout: Double?

    /// A request.
    public init(rid: String, prompt: PromptInput, dimensions: Int? = nil, timeout: Double? = nil) {
        self.rid = rid
        self.prompt = prompt
        self.dimensions = dimensions
        self.timeout = timeout
    }
}
