import JSON
import Tokenizers

extension OpenAI {
    /// `select` as SGLang's OpenAI backend does it (spec §1.10), on completion models only: one token per call,
    /// with `logit_bias` +100 on the next token of every choice still in the race and the prompt sent as token
    /// ids; choices whose token differs from the answer drop out, each match scores 1, and the race ends when at
    /// most one choice is left. The highest score wins (the first on ties). Meta: `{"scores": [...]}`.
    ///
    /// `method` is not used (as in SGLang: only prompt-logprob backends honour it).
    /// - Throws: `SGLangError.unsupported` on chat models or without a tokenizer, `.backend` when the server
    ///   answers a token outside the choices.
    public func select(_ context: ProgramContext, choices: [String], temperature: Double,
                       method: ChoicesMethod) async throws -> ChoicesDecision {
        guard !isChatModel else {
            throw SGLangError.unsupported("select/choices on the chat model \(modelName): use a completion model "
                                          + "(isChatModel: false), as SGLang's OpenAI backend requires")
        }
        guard let tokenizer else {
            throw SGLangError.unsupported("select on \(modelName) scores choices token by token with logit_bias and "
                                          + "needs the model's tokenizer: pass OpenAI(tokenizer:)")
        }
        guard !choices.isEmpty else { throw SGLangError.invalidProgram("select needs at least one choice") }
        let ids = choices.map { tokenizer.encode($0, addSpecialTokens: false) }
        var scores = Array(repeating: 0, count: choices.count)
        var valid = ids.map { !$0.isEmpty }
        var prompt = tokenizer.encode(context.text, addSpecialTokens: false)
        let longest = ids.map(\.count).max() ?? 0
        for step in 0..<longest {
            var bias = JSONObject()
            for i in ids.indices where valid[i] { bias[String(ids[i][step])] = .int(100) }
            guard bias.count > 0 else { break }
            let body = JSONObject([
                ("model", .string(modelName)), ("prompt", .array(prompt.map(JSONValue.int))),
                ("logit_bias", .object(bias)), ("max_tokens", .int(1)), ("temperature", .double(temperature)),
            ])
            let response = try await api.post("/completions", .object(body))
            record(response)
            let text = response["choices"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            guard let token = tokenizer.encode(text, addSpecialTokens: false).first else {
                throw SGLangError.backend("select: \(modelName) answered \(text.debugDescription), no token")
            }
            var hit = false
            for i in ids.indices where valid[i] {
                if step == ids[i].count - 1 { valid[i] = false }
                if token == ids[i][step] {
                    scores[i] += 1
                    hit = true
                } else {
                    valid[i] = false
                }
            }
            guard hit else {
                throw SGLangError.backend("select: \(modelName) answered \(text.debugDescription), the next token of "
                                          + "no remaining choice (the server ignored logit_bias?)")
            }
            if valid.filter({ $0 }).count <= 1 { break }
            prompt.append(token)
        }
        var best = 0
        for i in scores.indices where scores[i] > scores[best] { best = i }
        return ChoicesDecision(decision: choices[best], index: best,
                               meta: JSONObject([("scores", .array(scores.map(JSONValue.int)))]))
    }
}
