/// A chat-only backend that runs API speculative execution a whole assistant turn at a time (spec §1.12).
public protocol ChatSpeculativeBackend: Backend {
    /// Generates the turn `turn` recorded in one call and splits the output among its gens.
    /// `context.messages` are the messages before the turn (the turn is still open).
    func speculateAssistantTurn(_ context: ProgramContext, _ turn: ChatSpeculation) async throws -> ChatSpeculation.Outcome
}

/// API speculative execution for chat models (spec §1.12, SGLang's `spec_format`): inside an assistant turn
/// the gens and constant fills are recorded instead of run; when the turn ends one chat completion of
/// `maxTokens` tokens (no stop strings) produces the whole turn, and `match` splits it: constant text must match
/// as a prefix, each gen is cut at its first stop string, and the last gen takes the rest.
///
/// The interpreter owns one per open assistant turn: `addFill` for text nodes, `addGen` for gens, then
/// `ChatSpeculativeBackend.speculateAssistantTurn` at the role's end, appending `Outcome.texts` in order and
/// setting `Outcome.variables`.
public struct ChatSpeculation: Sendable {
    /// One recorded piece of the turn.
    public enum Part: Sendable, Hashable {
        /// Constant text.
        case fill(String)
        /// A gen: its variable (if named) and its stop strings.
        case gen(name: String?, stop: [String])
    }

    /// The turn after the call.
    public struct Outcome: Sendable, Hashable {
        /// The text of each part, in order (fills as recorded; gens as matched, "" where nothing matched).
        public var texts: [String]
        /// Whether the output matched the whole turn.
        public var matched: Bool
        /// Each named gen's text.
        public var variables: [String: String]

        /// The turn's text.
        public var text: String { texts.joined() }
    }

    /// Calls per turn until the output matches (SGLang's `spec_max_num_tries`).
    public static let maxTries = 3

    /// The token budget of the turn's one call (`numAPISpecTokens`).
    public let maxTokens: Int
    /// The recorded parts, in order.
    public private(set) var parts: [Part] = []
    /// The sampling parameters of the turn (its first gen's); nil until a gen is recorded.
    public private(set) var params: SamplingParameters?

    /// An empty turn with a budget of `maxTokens`.
    public init(maxTokens: Int) { self.maxTokens = maxTokens }

    /// Whether nothing was recorded.
    public var isEmpty: Bool { parts.isEmpty }

    /// Records constant text (empty text records nothing).
    public mutating func addFill(_ text: String) {
        guard !text.isEmpty else { return }
        if case .fill(let previous)? = parts.last {
            parts[parts.count - 1] = .fill(previous + text)
        } else {
            parts.append(.fill(text))
        }
    }

    /// Records a gen.
    /// - Throws: `SGLangError.invalidProgram` when its sampling parameters (other than stop and max tokens)
    ///   differ from the turn's first gen's (one call serves them all), `.unsupported` for constrained gens.
    public mutating func addGen(_ name: String?, _ params: SamplingParameters) throws {
        guard params.regex == nil, params.dtype == nil, params.jsonSchema == nil else {
            throw SGLangError.unsupported("constrained gens (regex, dtype, jsonSchema) with API speculative execution")
        }
        if let first = self.params {
            guard Self.shared(first) == Self.shared(params) else {
                throw SGLangError.invalidProgram("the gens of a speculated assistant turn must share their sampling "
                                                 + "parameters (temperature, top_p, penalties): one call serves them all")
            }
        } else {
            self.params = params
        }
        parts.append(.gen(name: name, stop: params.stop))
    }

    /// The parameters one call applies to every gen of the turn.
    static func shared(_ p: SamplingParameters) -> [Double] {
        [p.temperature, p.topP, p.frequencyPenalty, p.presencePenalty]
    }

    /// Splits a completion of the whole turn among its parts (SGLang's `spec_pattern_match`). A gen without
    /// stop strings that a fill follows ends where that fill's text first appears.
    public func match(_ completion: String) -> Outcome {
        var rest = Substring(completion)
        var texts: [String] = []
        for (i, part) in parts.enumerated() {
            switch part {
            case .fill(let text):
                guard rest.utf8.starts(with: text.utf8) else { return fallback(texts) }
                texts.append(text)
                rest = rest[rest.utf8.index(rest.startIndex, offsetBy: text.utf8.count)...]
            case .gen(_, let stop):
                var ends = stop.filter { !$0.isEmpty }
                if ends.isEmpty, i + 1 < parts.count, case .fill(let next) = parts[i + 1] { ends = [next] }
                if let cut = ends.compactMap({ rest.range(of: $0)?.lowerBound }).min() {
                    texts.append(String(rest[..<cut]))
                    rest = rest[cut...]
                } else if i == parts.count - 1 {
                    texts.append(String(rest))
                    rest = ""
                } else {
                    return fallback(texts)
                }
            }
        }
        return outcome(texts, matched: true)
    }

    /// The outcome when no call matched: the texts matched so far, then the remaining fills as recorded and
    /// empty gens (SGLang appends the recorded parts as they stand).
    public func fallback(_ matched: [String]?) -> Outcome {
        var texts = matched ?? []
        for part in parts.dropFirst(texts.count) {
            if case .fill(let t) = part { texts.append(t) } else { texts.append("") }
        }
        return outcome(texts, matched: false)
    }

    private func outcome(_ texts: [String], matched: Bool) -> Outcome {
        var variables: [String: String] = [:]
        for (part, text) in zip(parts, texts) {
            if case .gen(let name?, _) = part { variables[name] = text }
        }
        return Outcome(texts: texts, matched: matched, variables: variables)
    }
}
