import Grammar

/// The type a `gen` result must have (`dtype`): backends that support constrained decoding turn it into one
/// of SGLang's built-in regular expressions.
public enum GenType: String, Sendable, Hashable, CaseIterable {
    case int, float, bool, string

    /// SGLang's regex for the type (`REGEX_INT`, `REGEX_FLOAT`, `REGEX_BOOL`, `REGEX_STR`).
    public var regex: String {
        switch self {
        case .int: return BuiltinRegex.int
        case .float: return BuiltinRegex.float
        case .bool: return BuiltinRegex.bool
        case .string: return BuiltinRegex.string
        }
    }

    /// Stop strings SGLang adds with the type (numbers end at a space or newline).
    public var extraStops: [String] {
        BuiltinRegex.stops(forDType: self == .string ? "str" : rawValue)
    }
}

/// Sampling settings of one `gen` (SGLang's `SglSamplingParams`, spec §1.4): the run-level defaults with the
/// gen's own arguments on top.
public struct SamplingParameters: Sendable, Hashable {
    public var maxNewTokens: Int
    public var stop: [String]
    public var stopTokenIds: [Int]
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    public var minP: Double
    public var frequencyPenalty: Double
    public var presencePenalty: Double
    public var ignoreEOS: Bool
    public var returnLogprob: Bool?
    public var logprobStartLen: Int?
    public var topLogprobsNum: Int?
    public var returnTextInLogprobs: Bool?
    /// A JSON Schema (as JSON text) the output must satisfy.
    public var jsonSchema: String?
    /// The output type; wins over `regex` (SGLang prints a warning, we drop the regex).
    public var dtype: GenType?
    /// A regular expression the output must match.
    public var regex: String?
    /// Regular expressions that end the gen where one matches in its output (SGLang HEAD's `stop_regex`; the
    /// in-process engine and SGLang servers).
    public var stopRegex: [String] = []

    /// SGLang's defaults (`run(...)`'s keyword defaults).
    public init(maxNewTokens: Int = 128, stop: [String] = [], stopTokenIds: [Int] = [], temperature: Double = 1,
                topP: Double = 1, topK: Int = -1, minP: Double = 0, frequencyPenalty: Double = 0,
                presencePenalty: Double = 0, ignoreEOS: Bool = false, returnLogprob: Bool? = nil,
                logprobStartLen: Int? = nil, topLogprobsNum: Int? = nil, returnTextInLogprobs: Bool? = nil,
                jsonSchema: String? = nil, dtype: GenType? = nil, regex: String? = nil) {
        self.maxNewTokens = maxNewTokens
        self.stop = stop
        self.stopTokenIds = stopTokenIds
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.ignoreEOS = ignoreEOS
        self.returnLogprob = returnLogprob
        self.logprobStartLen = logprobStartLen
        self.topLogprobsNum = topLogprobsNum
        self.returnTextInLogprobs = returnTextInLogprobs
        self.jsonSchema = jsonSchema
        self.dtype = dtype
        self.regex = regex
    }

    /// The constraint a constrained-decoding backend applies: `dtype` turned into its regex (with its extra
    /// stops), else `regex`, else `jsonSchema` (SGLang's RuntimeEndpoint rule).
    public func resolvingDType() -> SamplingParameters {
        guard let dtype else { return self }
        var p = self
        p.regex = dtype.regex
        p.jsonSchema = nil
        for s in dtype.extraStops where !p.stop.contains(s) { p.stop.append(s) }
        p.dtype = nil
        return p
    }
}

/// A gen's own sampling arguments; nil means "inherit from the run".
struct SamplingOverrides: Sendable, Hashable {
    var maxNewTokens: Int?
    var stop: [String]?
    var stopTokenIds: [Int]?
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var minP: Double?
    var frequencyPenalty: Double?
    var presencePenalty: Double?
    var ignoreEOS: Bool?
    var returnLogprob: Bool?
    var logprobStartLen: Int?
    var topLogprobsNum: Int?
    var returnTextInLogprobs: Bool?
    var jsonSchema: String?
    var dtype: GenType?
    var regex: String?
    var stopRegex: [String]?

    /// The run defaults with every set field replaced; the template's stop strings are appended (spec §1.4).
    func resolve(_ defaults: SamplingParameters, templateStops: [String]) -> SamplingParameters {
        var p = defaults
        if let v = maxNewTokens { p.maxNewTokens = v }
        if let v = stop { p.stop = v }
        if let v = stopTokenIds { p.stopTokenIds = v }
        if let v = temperature { p.temperature = v }
        if let v = topP { p.topP = v }
        if let v = topK { p.topK = v }
        if let v = minP { p.minP = v }
        if let v = frequencyPenalty { p.frequencyPenalty = v }
        if let v = presencePenalty { p.presencePenalty = v }
        if let v = ignoreEOS { p.ignoreEOS = v }
        if let v = returnLogprob { p.returnLogprob = v }
        if let v = logprobStartLen { p.logprobStartLen = v }
        if let v = topLogprobsNum { p.topLogprobsNum = v }
        if let v = returnTextInLogprobs { p.returnTextInLogprobs = v }
        if let v = jsonSchema { p.jsonSchema = v }
        if let v = dtype { p.dtype = v }
        if let v = regex { p.regex = v }
        if let v = stopRegex { p.stopRegex = v }
        for s in templateStops where !p.stop.contains(s) { p.stop.append(s) }
        return p
    }
}
