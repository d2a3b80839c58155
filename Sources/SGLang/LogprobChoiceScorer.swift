/// One `[logprob, token_id, text]` entry of a backend's prompt logprobs.
struct ScoredToken: Sendable, Hashable {
    var logprob: Double?
    var id: Int
    var text: String?
}

/// What a backend with prompt logprobs provides so `select` can score choices the way SGLang's
/// RuntimeEndpoint does (spec §1.9).
protocol PromptLogprobSource: Sendable {
    /// Prefills `text` (no new tokens; it lands in the prefix cache) and returns its length in tokens.
    func prefill(_ text: String) async throws -> Int
    /// Prompt logprobs of each text from position `start` on (entry 0 is the token at `start`), with token text.
    func promptLogprobs(_ texts: [String], start: Int) async throws -> [[ScoredToken]]
    /// Prompt logprobs of token-id prompts from position 0 (the first entry has no logprob).
    func promptLogprobs(ids: [[Int]]) async throws -> [[ScoredToken]]
}

/// `select` over prompt logprobs (spec §1.9, §1.11).
///
/// 1. Prefill the program's text (P tokens) so the choices share its cached KV.
/// 2. Score `text + choice` for every choice in one batch from position max(P − 2, 0): the two-token margin
///    covers token healing, where the prompt's last token merges with the start of a choice.
/// 3. A choice's tokens are the scored tokens after the longest run of leading entries whose text lies in the
///    prompt (the remaining token texts still end with the whole choice); when token texts are unavailable the
///    first P − start entries are the prompt's. The normalized logprob is the mean over the choice's tokens.
/// 4. For `unconditionalLikelihoodNormalized`, the choice tokens alone are scored again (first one: 0).
enum LogprobChoiceScorer {
    static func select(_ source: some PromptLogprobSource, text: String, choices: [String],
                       method: ChoicesMethod) async throws -> ChoicesDecision {
        guard !choices.isEmpty else { throw SGLangError.invalidProgram("select needs at least one choice") }
        let promptTokens = try await source.prefill(text)
        let start = max(promptTokens - 2, 0)
        let scored = try await source.promptLogprobs(choices.map { text + $0 }, start: start)
        guard scored.count == choices.count else {
            throw SGLangError.backend("scored \(scored.count) of \(choices.count) choices")
        }
        var scores: [ChoiceScore] = []
        for (choice, entries) in zip(choices, scored) {
            let first = choiceStart(entries, choice: choice, promptEntries: promptTokens - start)
            let tokens = Array(entries[first...])
            scores.append(ChoiceScore(tokenLogprobs: tokens.map { $0.logprob ?? 0 }, tokenIds: tokens.map(\.id)))
        }
        if method.requiresUnconditionalLogprobs {
            let unconditional = try await source.promptLogprobs(ids: scores.map(\.tokenIds))
            for i in scores.indices {
                let u = i < unconditional.count ? unconditional[i] : []
                scores[i].unconditionalLogprobs = scores[i].tokenIds.indices.map { k in
                    k < u.count ? (u[k].logprob ?? 0) : 0
                }
            }
        }
        return try method.decide(choices: choices, scores: scores)
    }

    /// Index of the first entry that belongs to the choice.
    static func choiceStart(_ entries: [ScoredToken], choice: String, promptEntries: Int) -> Int {
        let fallback = min(max(promptEntries, 0), entries.count)
        guard entries.allSatisfy({ $0.text != nil }), !choice.isEmpty else { return fallback }
        let texts = entries.map { $0.text ?? "" }
        var j = fallback
        while j >= 0 {
            let rest = texts[j...].joined()
            if rest.hasSuffix(choice) { return j }
            j -= 1
        }
        return fallback
    }
}
