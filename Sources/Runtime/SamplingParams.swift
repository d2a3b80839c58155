import Grammar
/// Per-request sampling settings: SGLang's `sampling_params` (spec §3), with its defaults and ranges.
public struct SamplingParams: Sendable, Hashable {
    /// Most tokens to generate (≥ 0; 0 = prefill only, for caching and scoring).
    public var maxNewTokens: Int
    /// EOS and `stopTokenIds` are masked until this many tokens were generated (stop strings still fire).
    public var minNewTokens: Int
    /// Strings that end generation; the first match is trimmed from the text unless `noStopTrim`.
    public var stop: [String]
    /// Regular expressions (Python `re` syntax) that end generation when one matches somewhere in the output text
    /// (`stop_regex`, SGLang HEAD). The finish reason carries the pattern, and as in SGLang the text is trimmed
    /// only where the pattern's own characters occur in it.
    public var stopRegex: [String] = []
    /// Ids that end generation like EOS.
    public var stopTokenIds: Set<Int>
    /// Softmax temperature; below `Sampler.greedyThreshold` decoding is greedy (argmax).
    public var temperature: Double
    /// Nucleus mass in (0, 1].
    public var topP: Double
    /// Keep only the `topK` most likely tokens; -1 means the whole vocabulary.
    public var topK: Int
    /// Keep tokens whose probability is at least `minP` times the largest one.
    public var minP: Double
    /// In [-2, 2]: logit -= frequencyPenalty × (times the token appeared in the output).
    public var frequencyPenalty: Double
    /// In [-2, 2]: logit -= presencePenalty when the token appeared in the output.
    public var presencePenalty: Double
    /// In [0, 2]: tokens seen in prompt or output get logit / rp when positive, logit × rp otherwise.
    public var repetitionPenalty: Double
    /// Do not stop on EOS or `stopTokenIds` (`maxNewTokens` still applies).
    public var ignoreEOS: Bool
    /// Leave special tokens out of the text.
    public var skipSpecialTokens: Bool
    /// Put spaces between special tokens when they are kept.
    public var spacesBetweenSpecialTokens: Bool
    /// Keep the matched stop string (and stop token) in the output.
    public var noStopTrim: Bool
    /// Constrain the output to this regular expression.
    public var regex: String?
    /// Constrain the output to this JSON Schema (a JSON string; `"$$ANY$$"` means any JSON value).
    public var jsonSchema: String?
    /// Parallel samples of the same prompt.
    public var n: Int
    /// Additive logit bias by token id (applied after temperature).
    public var logitBias: [Int: Double]
    /// SGLang's `sampling_seed`: with a seed, the request's draws depend only on (seed, sample index, step),
    /// so they are reproducible whatever else is in the batch. nil: the engine picks one from its random seed.
    public var seed: UInt64?
    /// Stream a chunk every this many tokens (nil: the engine's `--stream-interval`).
    public var streamInterval: Int?

    /// SGLang's defaults.
    public init(maxNewTokens: Int = 128, minNewTokens: Int = 0, stop: [String] = [], stopTokenIds: Set<Int> = [],
                temperature: Double = 1, topP: Double = 1, topK: Int = -1, minP: Double = 0,
                frequencyPenalty: Double = 0, presencePenalty: Double = 0, repetitionPenalty: Double = 1,
                ignoreEOS: Bool = false, skipSpecialTokens: Bool = true, spacesBetweenSpecialTokens: Bool = true,
                noStopTrim: Bool = false, regex: String? = nil, jsonSchema: String? = nil, n: Int = 1,
                logitBias: [Int: Double] = [:], seed: UInt64? = nil, streamInterval: Int? = nil) {
        self.maxNewTokens = maxNewTokens
        self.minNewTokens = minNewTokens
        self.stop = stop
        self.stopTokenIds = stopTokenIds
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.repetitionPenalty = repetitionPenalty
        self.ignoreEOS = ignoreEOS
        self.skipSpecialTokens = skipSpecialTokens
        self.spacesBetweenSpecialTokens = spacesBetweenSpecialTokens
        self.noStopTrim = noStopTrim
        self.regex = regex
        self.jsonSchema = jsonSchema
        self.n = n
        self.logitBias = logitBias
        self.seed = seed
        self.streamInterval = streamInterval
    }

    /// Whether this request decodes greedily.
    public var isGreedy: Bool { temperature < Sampler.greedyThreshold || topK == 1 }

    /// Whether any logit penalty or bias is active (the sampler skips that pass otherwise).
    public var hasPenalties: Bool {
        frequencyPenalty != 0 || presencePenalty != 0 || repetitionPenalty != 1 || minNewTokens > 0 || !logitBias.isEmpty
    }

    /// Checks the ranges SGLang enforces.
    /// - Parameter vocabSize: when given, token ids in `stopTokenIds` and `logitBias` must be below it.
    /// - Throws: `RuntimeError.invalidSamplingParams` naming the field.
    public func validate(vocabSize: Int? = nil) throws {
        func fail(_ m: String) -> RuntimeError { RuntimeError.invalidSamplingParams(m) }
        guard maxNewTokens >= 0 else { throw fail("max_new_tokens must be ≥ 0, found \(maxNewTokens)") }
        guard minNewTokens >= 0, minNewTokens <= maxNewTokens else {
            throw fail("min_new_tokens must be in [0, max_new_tokens=\(maxNewTokens)], found \(minNewTokens)")
        }
        guard temperature >= 0, temperature.isFinite else {
            throw fail("temperature must be a finite value ≥ 0, found \(temperature)")
        }
        guard topP > 0, topP <= 1 else { throw fail("top_p must be in (0, 1], found \(topP)") }
        guard topK == -1 || topK >= 1 else {
            throw fail("top_k must be -1 (whole vocabulary) or ≥ 1, found \(topK)")
        }
        guard minP >= 0, minP <= 1 else { throw fail("min_p must be in [0, 1], found \(minP)") }
        guard frequencyPenalty >= -2, frequencyPenalty <= 2 else {
            throw fail("frequency_penalty must be in [-2, 2], found \(frequencyPenalty)")
        }
        guard presencePenalty >= -2, presencePenalty <= 2 else {
            throw fail("presence_penalty must be in [-2, 2], found \(presencePenalty)")
        }
        guard repetitionPenalty >= 0, repetitionPenalty <= 2 else {
            throw fail("repetition_penalty must be in [0, 2], found \(repetitionPenalty)")
        }
        guard n >= 1 else { throw fail("n must be ≥ 1, found \(n)") }
        if regex != nil, jsonSchema != nil {
            throw fail("regex and json_schema are mutually exclusive")
        }
        if stop.contains(where: \.isEmpty) { throw fail("stop strings must not be empty") }
        if !stopRegex.isEmpty {
            if stopRegex.contains(where: \.isEmpty) { throw fail("stop_regex patterns must not be empty") }
            // Syntax only: `Engine.prepare` builds the automata once, for the request that runs.
            for p in stopRegex {
                do { try RegexCompiler.validate(p) } catch { throw fail("stop_regex is invalid: \(error)") }
            }
        }
        if let interval = streamInterval, interval < 1 { throw fail("stream_interval must be ≥ 1, found \(interval)") }
        for (id, bias) in logitBias where !bias.isFinite && bias != -.infinity {
            throw fail("logit_bias for token \(id) must be a number, found \(bias)")
        }
        if let vocab = vocabSize {
            if let bad = stopTokenIds.first(where: { $0 < 0 || $0 >= vocab }) {
                throw fail("stop_token_ids contains \(bad), outside the vocabulary 0..<\(vocab)")
            }
            if let bad = logitBias.keys.first(where: { $0 < 0 || $0 >= vocab }) {
                throw fail("logit_bias names token \(bad), outside the vocabulary 0..<\(vocab)")
            }
        }
    }
}
