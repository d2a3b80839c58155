import JSON

/// The scored tokens of one choice, as a scoring backend measured them.
public struct ChoiceScore: Sendable, Hashable {
    /// Logprob of each of the choice's tokens given the prompt and the choice's earlier tokens (a token that
    /// merged the prompt's end with the choice, "token healing", counts as a choice token).
    public var tokenLogprobs: [Double]
    /// The ids of those tokens.
    public var tokenIds: [Int]
    /// Logprobs of the same tokens with no prompt (unconditional), when the method needs them; the first
    /// token has no context and counts as 0.
    public var unconditionalLogprobs: [Double]?

    /// A score.
    public init(tokenLogprobs: [Double], tokenIds: [Int], unconditionalLogprobs: [Double]? = nil) {
        self.tokenLogprobs = tokenLogprobs
        self.tokenIds = tokenIds
        self.unconditionalLogprobs = unconditionalLogprobs
    }

    /// Mean logprob over the choice's tokens (0 for a choice with no tokens).
    public var normalizedLogprob: Double {
        tokenLogprobs.isEmpty ? 0 : tokenLogprobs.reduce(0, +) / Double(tokenLogprobs.count)
    }
}

/// How `select` picks among choices from their token logprobs (SGLang's `lang/choices.py`, spec §1.11).
public enum ChoicesMethod: String, Sendable, Hashable, CaseIterable {
    /// Highest mean logprob over the choice's tokens (the default).
    case tokenLengthNormalized = "token_length_normalized"
    /// Left to right, keep the choices whose token logprob equals the column maximum (shorter choices padded
    /// with their own mean) until one is left; ties go to the first.
    case greedyTokenSelection = "greedy_token_selection"
    /// Highest mean of (conditional − unconditional) token logprob.
    case unconditionalLikelihoodNormalized = "unconditional_likelihood_normalized"

    /// Whether the backend must also measure unconditional logprobs.
    public var requiresUnconditionalLogprobs: Bool { self == .unconditionalLikelihoodNormalized }

    /// Picks a choice from the scores (one per choice, in order).
    /// - Throws: `SGLangError.invalidProgram` when there are no choices or the counts differ.
    public func decide(choices: [String], scores: [ChoiceScore]) throws -> ChoicesDecision {
        guard !choices.isEmpty else { throw SGLangError.invalidProgram("select needs at least one choice") }
        guard scores.count == choices.count else {
            throw SGLangError.backend("the backend scored \(scores.count) of \(choices.count) choices")
        }
        let normalized = scores.map(\.normalizedLogprob)
        var meta = JSONObject()
        meta["normalized_prompt_logprobs"] = .array(normalized.map(JSONValue.double))
        meta["input_token_logprobs"] = .array(scores.map { s in
            .array(zip(s.tokenLogprobs, s.tokenIds).map { .array([.double($0), .int($1)]) })
        })
        let best: Int
        switch self {
        case .tokenLengthNormalized:
            best = Self.argmax(normalized)
        case .greedyTokenSelection:
            let width = scores.map(\.tokenLogprobs.count).max() ?? 0
            let matrix = scores.map { s in
                s.tokenLogprobs + Array(repeating: s.normalizedLogprob, count: width - s.tokenLogprobs.count)
            }
            var alive = Array(matrix.indices)
            var column = 0
            while alive.count > 1, column < width {
                let top = alive.map { matrix[$0][column] }.max() ?? 0
                alive = alive.filter { matrix[$0][column] == top }
                column += 1
            }
            best = alive.first ?? 0
            meta["greedy_logprob_matrix"] = .array(matrix.map { .array($0.map(JSONValue.double)) })
        case .unconditionalLikelihoodNormalized:
            var values: [Double] = []
            for s in scores {
                guard let u = s.unconditionalLogprobs, u.count == s.tokenLogprobs.count else {
                    throw SGLangError.backend("the backend did not measure unconditional logprobs")
                }
                let diffs = zip(s.tokenLogprobs, u).map { $0 - $1 }
                values.append(diffs.isEmpty ? 0 : diffs.reduce(0, +) / Double(diffs.count))
            }
            best = Self.argmax(values)
            meta["unconditional_token_logprobs"] = .array(scores.map {
                .array(($0.unconditionalLogprobs ?? []).map(JSONValue.double))
            })
            meta["normalized_unconditional_prompt_logprobs"] = .array(values.map(JSONValue.double))
        }
        return ChoicesDecision(decision: choices[best], index: best, meta: meta)
    }

    /// First index of the largest value.
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

/// The result of `select`: the chosen string and the scores behind it.
public struct ChoicesDecision: Sendable, Hashable {
    /// The chosen choice.
    public var decision: String
    /// Its index among the choices.
    public var index: Int
    /// `normalized_prompt_logprobs`, `input_token_logprobs` and the method's extra fields.
    public var meta: JSONObject

    /// A decision.
    public init(decision: String, index: Int, meta: JSONObject) {
        self.decision = decision
        self.index = index
        self.meta = meta
    }
}
