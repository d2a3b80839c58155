import Grammar

/// A request that passed `Engine.prepare`: its prompt ids and compiled grammar.
public struct PreparedRequest: Sendable {
    /// The request as given.
    public let request: GenerateRequest
    /// The tokenized prompt.
    public let promptIds: [Int]
    let matcher: GrammarMatcher?
    /// The images and the unpadded prompt; nil without images (then `promptIds` are the tokenized prompt,
    /// otherwise the padded ids).
    var multimodal: MultimodalPrompt?
    /// The compiled `stop_regex` patterns (nil without any).
    var stopRegex: StopRegexMatcher? = nil
}

/// A request with `n` samples that passed `Engine.prepareParallel`.
public struct PreparedParallelRequest: Sendable {
    /// The prompt's token ids.
    public var promptIds: [Int]
    /// One prepared request per sample (rids `rid`, `rid-1`, …).
    public var samples: [PreparedRequest]
    /// For n > 1: the prefill-only request that caches the prompt before the samples start (spec §2.2).
    public var warm: PreparedRequest?
}
