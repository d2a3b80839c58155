/// The checkpoint of a bare transformer (`MistralModel`, `Qwen3Model`, most embedding models: `embed_tokens.weight`,
/// `layers.N.…`, `norm.weight`, no `lm_head`) under the causal-LM names every model reads (`model.…`).
public struct BareModelWeightSource: WeightSource {
    /// The checkpoint as stored.
    public let base: any WeightSource

    /// Wraps `base`.
    public init(_ base: any WeightSource) { self.base = base }

    /// Whether `source` stores a bare transformer: its embedding sits at the top level, not under `model.`.
    public static func isBare(_ source: any WeightSource) -> Bool {
        !source.contains("model.embed_tokens.weight") && source.contains("embed_tokens.weight")
    }

    /// The stored names, with `model.` before every one but `lm_head.*`.
    public var names: [String] { base.names.map(Self.causalName).sorted() }

    public func info(named name: String) throws -> TensorInfo {
        try base.info(named: Self.storedName(name))
    }

    public func tensor(named name: String) throws -> TensorData {
        try base.tensor(named: Self.storedName(name))
    }

    static func causalName(_ stored: String) -> String {
        stored.hasPrefix("lm_head.") ? stored : "model." + stored
    }

    static func storedName(_ name: String) -> String {
        name.hasPrefix("model.") ? String(name.dropFirst("model.".count)) : name
    }
}
