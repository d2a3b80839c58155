import JSON

/// A decoded generation_config.json: stop tokens and the model author's default sampling values.
///
/// Sampling values are optional: nil means the file does not set them, so a request's own value or the
/// server's default applies.
public struct GenerationConfig: Sendable, Hashable {
    /// `bos_token_id`.
    public var bosTokenId: Int?
    /// `eos_token_id` as a list (Llama 3.1 lists several end tokens).
    public var eosTokenIds: [Int]
    /// `pad_token_id`.
    public var padTokenId: Int?
    /// `do_sample`: false means greedy decoding by default.
    public var doSample: Bool?
    /// Default sampling temperature (`temperature`).
    public var temperature: Double?
    /// Default nucleus mass (`top_p`).
    public var topP: Double?
    /// Default top-k cut (`top_k`; 0 disables it, as in transformers).
    public var topK: Int?
    /// Default min-p cut (`min_p`).
    public var minP: Double?
    /// Default repetition penalty (`repetition_penalty`; 1 means none).
    public var repetitionPenalty: Double?
    /// Default generation budget (`max_new_tokens`).
    public var maxNewTokens: Int?
    /// `max_length`: prompt plus generated tokens.
    public var maxLength: Int?
    /// The whole file, for keys not modelled here.
    public var raw: JSONValue

    /// An empty configuration (no file).
    public init() {
        eosTokenIds = []
        raw = .object(JSONObject())
    }

    /// Decodes a parsed generation_config.json.
    public init(json: JSONValue) throws {
        guard json.objectValue != nil else {
            throw ModelError.invalidField(
                "generation_config", reason: "generation_config.json must hold a JSON object, found \(json.typeName)")
        }
        let c = ConfigReader(json)
        raw = json
        bosTokenId = try c.int("bos_token_id")
        eosTokenIds = try c.intList("eos_token_id") ?? []
        padTokenId = try c.int("pad_token_id")
        doSample = try c.bool("do_sample")
        temperature = try c.double("temperature")
        topP = try c.double("top_p")
        topK = try c.int("top_k")
        minP = try c.double("min_p")
        repetitionPenalty = try c.double("repetition_penalty")
        maxNewTokens = try c.int("max_new_tokens")
        maxLength = try c.int("max_length")
        if let t = temperature, t < 0 {
            throw ModelError.invalidField("temperature", reason: "must not be negative, found \(t)")
        }
        if let p = topP, !(p > 0 && p <= 1) {
            throw ModelError.invalidField("top_p", reason: "must be in (0, 1], found \(p)")
        }
        if let p = minP, !(p >= 0 && p <= 1) {
            throw ModelError.invalidField("min_p", reason: "must be in [0, 1], found \(p)")
        }
        if let r = repetitionPenalty, r <= 0 {
            throw ModelError.invalidField("repetition_penalty", reason: "must be positive, found \(r)")
        }
    }

    /// Decodes generation_config.json bytes.
    public init(bytes: [UInt8], path: String = "generation_config.json") throws {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes)
        } catch {
            throw ModelError.invalidJSON(path: path, reason: "\(error)")
        }
        try self.init(json: json)
    }

    /// Loads `generation_config.json` from a model folder; nil when the folder has none.
    public static func load(fromFolder folder: String) throws -> GenerationConfig? {
        let file = ModelFiles.join(folder, "generation_config.json")
        guard ModelFiles.exists(file) else { return nil }
        return try GenerationConfig(bytes: try ModelFiles.readBytes(file), path: file)
    }
}
