import JSON

/// Rotary position embedding settings, read from either config style:
/// transformers ≤4 (`rope_theta` + `rope_scaling`) or transformers 5 (`rope_parameters`).
public struct RopeConfig: Sendable, Hashable {
    /// The base wavelength θ.
    public var theta: Double
    /// How frequencies are rescaled for longer contexts.
    public var scaling: RopeScaling
    /// Fraction of each head that is rotated (Phi-3 mini-4k uses 1.0; some models less).
    public var partialRotaryFactor: Double
    /// The attention head size the rotation applies to.
    public var headDim: Int
    /// `max_position_embeddings` of the config (dynamic NTK and YaRN defaults depend on it).
    public var maxPositionEmbeddings: Int

    /// Creates a RoPE configuration from its parts.
    public init(theta: Double, scaling: RopeScaling = .none, partialRotaryFactor: Double = 1.0,
                headDim: Int, maxPositionEmbeddings: Int) {
        self.theta = theta
        self.scaling = scaling
        self.partialRotaryFactor = partialRotaryFactor
        self.headDim = headDim
        self.maxPositionEmbeddings = maxPositionEmbeddings
    }

    /// Number of rotated channels per head (`int(head_dim * partial_rotary_factor)`).
    public var rotaryDim: Int { Int(Double(headDim) * partialRotaryFactor) }

    /// The transformers name of the scaling type (`default`, `linear`, `dynamic`, `llama3`, `yarn`, `longrope`).
    public var ropeType: String { scaling.typeName }
}

/// A RoPE frequency-scaling method and its parameters.
public enum RopeScaling: Sendable, Hashable {
    /// Plain RoPE (`rope_type: "default"` or no scaling).
    case none
    /// Position interpolation: every frequency divided by `factor`.
    case linear(factor: Double)
    /// Dynamic NTK: θ grows with the sequence length once it passes `max_position_embeddings`.
    case dynamic(factor: Double)
    /// Llama 3.1's piecewise rescaling of low and medium frequencies.
    case llama3(Llama3RopeParameters)
    /// YaRN: ramped blend of interpolated and extrapolated frequencies plus an attention scale.
    case yarn(YarnRopeParameters)
    /// LongRoPE (Phi-3 long-context): per-frequency factors, short or long by sequence length.
    case longrope(LongRopeParameters)

    /// The transformers `rope_type` string.
    public var typeName: String {
        switch self {
        case .none: return "default"
        case .linear: return "linear"
        case .dynamic: return "dynamic"
        case .llama3: return "llama3"
        case .yarn: return "yarn"
        case .longrope: return "longrope"
        }
    }
}

/// Parameters of `rope_type: "llama3"`.
public struct Llama3RopeParameters: Sendable, Hashable {
    /// Divisor of low frequencies (8 for Llama 3.1).
    public var factor: Double
    /// Wavelengths above `original / lowFreqFactor` are fully scaled.
    public var lowFreqFactor: Double
    /// Wavelengths below `original / highFreqFactor` are kept.
    public var highFreqFactor: Double
    /// The pre-training context length (8192 for Llama 3.1).
    public var originalMaxPositionEmbeddings: Int
}

/// Parameters of `rope_type: "yarn"`; optional values fall back as in transformers.
public struct YarnRopeParameters: Sendable, Hashable {
    /// nil means `max_position_embeddings / original_max_position_embeddings`.
    public var factor: Double?
    /// The pre-training context length.
    public var originalMaxPositionEmbeddings: Int
    /// nil means derived from `factor`, `mscale`, `mscale_all_dim`.
    public var attentionFactor: Double?
    /// Rotation count where extrapolation ends (nil or 0 → 32).
    public var betaFast: Double?
    /// Rotation count where interpolation begins (nil or 0 → 1).
    public var betaSlow: Double?
    /// Numerator scale of the derived attention factor (DeepSeek style), with `mscaleAllDim`.
    public var mscale: Double?
    /// Denominator scale of the derived attention factor.
    public var mscaleAllDim: Double?
    /// Round the correction range outward to whole dimensions (default true).
    public var truncate: Bool
}

/// Parameters of `rope_type: "longrope"`.
public struct LongRopeParameters: Sendable, Hashable {
    /// Per-pair divisors used up to the pre-training length.
    public var shortFactor: [Double]
    /// Per-pair divisors used beyond it.
    public var longFactor: [Double]
    /// nil means `max_position_embeddings / original_max_position_embeddings`.
    public var factor: Double?
    /// nil means `sqrt(1 + ln(factor) / ln(original))` (1 when factor ≤ 1).
    public var attentionFactor: Double?
    /// The pre-training context length.
    public var originalMaxPositionEmbeddings: Int
}

extension RopeConfig {
    /// Reads RoPE settings from a config.json object the way transformers 5 standardizes them:
    /// a non-empty `rope_scaling` wins over `rope_parameters`; `rope_theta` inside the dict wins over the
    /// top-level key; the type comes from `rope_type`, else the legacy `type`, else `default`.
    static func decode(_ config: ConfigReader, family: ModelFamily, headDim: Int,
                       maxPositionEmbeddings: Int) throws -> RopeConfig {
        var dict: ConfigReader?
        var dictKey = "rope_parameters"
        for key in ["rope_scaling", "rope_parameters"] {
            guard let v = config.value(key) else { continue }
            guard let obj = v.objectValue else {
                throw ModelError.invalidField(key, reason: "expected an object, found a value of type \(v.typeName)")
            }
            if obj.count > 0 {
                dict = ConfigReader(v, keyPrefix: key + ".")
                dictKey = key
                break
            }
        }
        if let dict, let layerKey = try nestedLayerKey(dict, config: config) {
            throw ModelError.invalidField(
                dictKey, reason: "per-layer RoPE parameters (nested under '\(layerKey)') are used by no supported architecture")
        }

        let theta = try dict?.double("rope_theta") ?? config.double("rope_theta") ?? family.traits.ropeTheta
        guard theta > 1 else {
            throw ModelError.invalidField("rope_theta", reason: "must be greater than 1, found \(theta)")
        }
        let partial = try dict?.double("partial_rotary_factor") ?? config.double("partial_rotary_factor") ?? 1.0
        guard partial > 0, partial <= 1 else {
            throw ModelError.invalidField("partial_rotary_factor", reason: "must be in (0, 1], found \(partial)")
        }
        var rope = RopeConfig(theta: theta, partialRotaryFactor: partial, headDim: headDim,
                              maxPositionEmbeddings: maxPositionEmbeddings)
        guard rope.rotaryDim >= 2, rope.rotaryDim % 2 == 0 else {
            throw ModelError.invalidField(
                "partial_rotary_factor", reason: "rotates \(rope.rotaryDim) channels of head_dim \(headDim); needs an even number ≥ 2")
        }
        guard let dict else { return rope }

        let type = try dict.string("rope_type") ?? dict.string("type") ?? "default"
        // A pre-training length outside the dict takes priority (Phi-3 keeps it at the top level).
        func originalMax() throws -> Int {
            if let top = try config.positiveInt("original_max_position_embeddings") { return top }
            if family == .phi3 { return 4096 }
            return try dict.positiveInt("original_max_position_embeddings") ?? maxPositionEmbeddings
        }
        func factor() throws -> Double {
            guard let f = try dict.double("factor") else { throw ModelError.missingField(dictKey + ".factor") }
            guard f > 0 else { throw ModelError.invalidField(dictKey + ".factor", reason: "must be positive, found \(f)") }
            return f
        }
        func required(_ key: String) throws -> Double {
            guard let v = try dict.double(key) else { throw ModelError.missingField(dictKey + "." + key) }
            return v
        }

        switch type {
        case "default":
            rope.scaling = .none
        case "linear":
            rope.scaling = .linear(factor: try factor())
        case "dynamic":
            rope.scaling = .dynamic(factor: try factor())
        case "llama3":
            let p = Llama3RopeParameters(
                factor: try factor(), lowFreqFactor: try required("low_freq_factor"),
                highFreqFactor: try required("high_freq_factor"), originalMaxPositionEmbeddings: try originalMax())
            guard p.highFreqFactor > p.lowFreqFactor else {
                throw ModelError.invalidField(
                    dictKey + ".high_freq_factor", reason: "must exceed low_freq_factor (\(p.lowFreqFactor)), found \(p.highFreqFactor)")
            }
            rope.scaling = .llama3(p)
        case "yarn":
            let f = try dict.double("factor")
            if let f, f <= 0 {
                throw ModelError.invalidField(dictKey + ".factor", reason: "must be positive, found \(f)")
            }
            rope.scaling = .yarn(YarnRopeParameters(
                factor: f, originalMaxPositionEmbeddings: try originalMax(),
                attentionFactor: try dict.double("attention_factor"), betaFast: try dict.double("beta_fast"),
                betaSlow: try dict.double("beta_slow"), mscale: try dict.double("mscale"),
                mscaleAllDim: try dict.double("mscale_all_dim"), truncate: try dict.bool("truncate") ?? true))
        case "longrope", "su":
            let half = rope.rotaryDim / 2
            var lists: [[Double]] = []
            for key in ["short_factor", "long_factor"] {
                guard let list = try dict.doubleList(key) else { throw ModelError.missingField(dictKey + "." + key) }
                guard list.count == half else {
                    throw ModelError.invalidField(
                        dictKey + "." + key, reason: "needs \(half) values (rotary dim / 2), found \(list.count)")
                }
                lists.append(list)
            }
            rope.scaling = .longrope(LongRopeParameters(
                shortFactor: lists[0], longFactor: lists[1], factor: try dict.double("factor"),
                attentionFactor: try dict.double("attention_factor"), originalMaxPositionEmbeddings: try originalMax()))
        default:
            throw ModelError.invalidField(
                dictKey + ".rope_type",
                reason: "unknown RoPE type '\(type)'; supported: default, linear, dynamic, llama3, yarn, longrope")
        }
        return rope
    }

    /// The first key of a RoPE dict that names a layer type (a per-layer nested dict), if any.
    private static func nestedLayerKey(_ dict: ConfigReader, config: ConfigReader) throws -> String? {
        let labels = Set(try config.stringList("layer_types") ?? []).union(["full_attention", "sliding_attention"])
        guard let obj = dict.object.objectValue else { return nil }
        return obj.keys.first { labels.contains($0) && obj[$0]?.objectValue != nil }
    }
}
