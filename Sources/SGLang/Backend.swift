import JSON

/// What a program's backend does for the interpreter (SGLang's `BaseBackend`, spec §1.8): generate text
/// (all at once or streamed), score choices for `select`, expose its chat template, and warm its prefix cache.
///
/// Backends are shared by many programs at once and must be thread-safe. Every call receives a snapshot of the
/// calling program (`ProgramContext`: its text, messages and images so far).
public protocol Backend: Sendable {
    /// A name for the model behind the backend (the model path for SGLang servers).
    var modelName: String { get }

    /// Whether the backend only takes chat messages (OpenAI chat models): gens then need an open assistant
    /// role, and API speculative execution works per assistant turn. False for completion backends.
    var isChatModel: Bool { get }

    /// The chat template `system` / `user` / `assistant` roles are rendered with.
    func chatTemplate() async throws -> PromptTemplate

    /// Generates a continuation of `context.text` with fully resolved sampling parameters.
    /// - Returns: the generated text and the backend's meta info (SGLang's `meta_info` object).
    func generate(_ context: ProgramContext, _ params: SamplingParameters) async throws -> Generation

    /// Streams a continuation: each element carries the *new* text since the previous one (a delta) and the
    /// latest meta info.
    func generateStream(_ context: ProgramContext, _ params: SamplingParameters) -> AsyncThrowingStream<Generation, any Error>

    /// Picks one of `choices` as the continuation of `context.text` (spec §1.9 / §1.11).
    func select(_ context: ProgramContext, choices: [String], temperature: Double,
                method: ChoicesMethod) async throws -> ChoicesDecision

    /// Puts `prefix` into the backend's prefix cache (no tokens generated); a no-op where there is no cache.
    func cachePrefix(_ prefix: String) async throws

    /// Runs the operations deferred so far for `context` (SGLang's `commit_lazy_operations`: the prefix is
    /// prefilled before a fork so the children share its KV).
    func commitLazyOperations(_ context: ProgramContext) async throws

    /// Empties the backend's prefix cache; false when the backend refused (requests running) or has none.
    func flushCache() async throws -> Bool

    /// Called once when a program starts.
    func beginProgram(_ context: ProgramContext) async

    /// Called once when a program ends (after its last expression).
    func endProgram(_ context: ProgramContext) async
}

extension Backend {
    public func generateStream(_ context: ProgramContext, _ params: SamplingParameters) -> AsyncThrowingStream<Generation, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    continuation.yield(try await generate(context, params))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func select(_ context: ProgramContext, choices: [String], temperature: Double,
                       method: ChoicesMethod) async throws -> ChoicesDecision {
        throw SGLangError.unsupported("\(modelName): this backend cannot score choices for select")
    }

    public var isChatModel: Bool { false }
    public func cachePrefix(_ prefix: String) async throws {}
    public func commitLazyOperations(_ context: ProgramContext) async throws {}
    public func flushCache() async throws -> Bool { false }
    public func beginProgram(_ context: ProgramContext) async {}
    public func endProgram(_ context: ProgramContext) async {}
}

/// One generation result (or, in a stream, one increment of it).
public struct Generation: Sendable, Hashable {
    /// The generated text (a stream: the text added since the previous element).
    public var text: String
    /// The backend's meta info (`id`, `prompt_tokens`, `completion_tokens`, `finish_reason`, `cached_tokens`,
    /// logprob lists when requested, …).
    public var meta: JSONObject

    /// A result.
    public init(text: String, meta: JSONObject = JSONObject()) {
        self.text = text
        self.meta = meta
    }
}

/// The part of a running program a backend sees.
public struct ProgramContext: Sendable {
    /// The program's id (unique per state; forks get their own).
    public var programID: String
    /// The whole prompt so far.
    public var text: String
    /// The chat messages so far (closed roles only).
    public var messages: [ChatMessage]
    /// Images added so far, in order.
    public var images: [ImageInput]

    /// A context.
    public init(programID: String, text: String, messages: [ChatMessage] = [], images: [ImageInput] = []) {
        self.programID = programID
        self.text = text
        self.messages = messages
        self.images = images
    }
}
