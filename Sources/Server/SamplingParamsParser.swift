import JSON
import Models
import Runtime

/// Defaults for sampling fields a request leaves unset: the model's `generation_config.json`
/// (SGLang's `--sampling-defaults model`), else SGLang's constants.
struct SamplingDefaults: Sendable {
    var temperature: Double = 1
    var topP: Double = 1
    var topK: Int = -1
    var minP: Double = 0
    var repetitionPenalty: Double = 1

    init() {}

    init(_ g: GenerationConfig) {
        temperature = g.temperature ?? 1
        topP = g.topP ?? 1
        topK = g.topK.map { $0 <= 0 ? -1 : $0 } ?? -1
        minP = g.minP ?? 0
        repetitionPenalty = g.repetitionPenalty ?? 1
    }
}

/// Sampling fields shared by the native `sampling_params` object and the OpenAI request bodies.
enum SamplingParamsParser {
    /// Most parallel samples per prompt.
    static let maxN = 128

    /// Reads the fields both APIs spell the same way into `params`.
    static func readCommon(_ f: FieldReader, into p: inout SamplingParams, defaults: SamplingDefaults) throws {
        if let stop = try f.strings("stop") {
            if stop.contains(where: \.isEmpty) { throw ServerError.badRequest("\(f.name("stop")) must not contain empty strings", param: f.name("stop")) }
            p.stop = stop
        }
        if let patterns = try f.strings("stop_regex") { p.stopRegex = patterns }
        if let ids = try f.ints("stop_token_ids") { p.stopTokenIds = Set(ids) }
        p.temperature = try f.double("temperature") ?? defaults.temperature
        p.topP = try f.double("top_p") ?? defaults.topP
        p.topK = try f.int("top_k") ?? defaults.topK
        p.minP = try f.double("min_p") ?? defaults.minP
        p.frequencyPenalty = try f.double("frequency_penalty") ?? 0
        p.presencePenalty = try f.double("presence_penalty") ?? 0
        p.repetitionPenalty = try f.double("repetition_penalty") ?? defaults.repetitionPenalty
        p.ignoreEOS = try f.bool("ignore_eos") ?? false
        p.skipSpecialTokens = try f.bool("skip_special_tokens") ?? true
        p.spacesBetweenSpecialTokens = try f.bool("spaces_between_special_tokens") ?? true
        p.noStopTrim = try f.bool("no_stop_trim") ?? false
        p.regex = try f.string("regex")
        p.jsonSchema = try f.string("json_schema")
        p.n = try f.int("n", min: 1, max: maxN) ?? 1
        if let bias = try f.object("logit_bias") { p.logitBias = try logitBias(bias, field: f.name("logit_bias")) }
        try f.rejectUnsupported(["ebnf", "structural_tag", "custom_params"])
    }

    /// `{"token_id": bias}` with string keys, as both APIs send it.
    static func logitBias(_ o: JSONObject, field: String) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for (key, value) in o {
            guard let id = Int(key) else {
                throw ServerError.badRequest("\(field) keys must be token ids, found \"\(key)\"", param: field)
            }
            guard let bias = value.doubleValue, bias.isFinite else {
                throw ServerError.badRequest("\(field)[\"\(key)\"] must be a number, found \(value.typeName)", param: field)
            }
            out[id] = bias
        }
        return out
    }

    /// A native `sampling_params` object; returns whether `max_new_tokens` was given.
    static func native(_ o: JSONObject?, prefix: String, defaults: SamplingDefaults) throws -> (SamplingParams, Bool) {
        let f = FieldReader(o ?? JSONObject(), prefix: prefix)
        var p = SamplingParams()
        let max = try f.int("max_new_tokens", min: 0)
        if let max { p.maxNewTokens = max }
        p.minNewTokens = try f.int("min_new_tokens", min: 0) ?? 0
        try readCommon(f, into: &p, defaults: defaults)
        if let seed = try f.int("sampling_seed") { p.seed = UInt64(bitPattern: Int64(seed)) }
        p.streamInterval = try f.int("stream_interval", min: 1)
        return (p, max != nil)
    }
}
