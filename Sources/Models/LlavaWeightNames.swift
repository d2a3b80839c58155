/// Where a LLaVA checkpoint keeps each part. Two layouts exist: transformers 5's in-memory names
/// (`model.language_model.*`, `lm_head.*`, `model.vision_tower.*`, `model.multi_modal_projector.*`) and the
/// hub's (`language_model.model.*`, `language_model.lm_head.*`, `vision_tower.*`, `multi_modal_projector.*`);
/// the vision tower's own names may or may not start with `vision_model.`.
struct LlavaWeightNames: Sendable, Hashable {
    /// Prefix of the text model's base (`embed_tokens`, `layers`, `norm`).
    var text: String
    /// The output projection.
    var lmHead: String
    /// Prefix of the vision transformer (ending in `vision_model.` when the checkpoint has it).
    var vision: String
    /// Prefix of the projector's `linear_1` / `linear_2`.
    var projector: String

    /// Probes `source` for each layout.
    /// - Throws: `ModelError.missingTensor` naming the tensors looked for when no layout matches.
    static func detect(in source: any WeightSource) throws -> LlavaWeightNames {
        let textPrefixes = ["model.language_model.", "language_model.model."]
        guard let text = textPrefixes.first(where: { source.contains($0 + "embed_tokens.weight") }) else {
            throw ModelError.missingTensor(textPrefixes.map { $0 + "embed_tokens.weight" }.joined(separator: " or "))
        }
        let heads = ["lm_head.weight", "language_model.lm_head.weight"]
        let lmHead = heads.first(where: { source.contains($0) }) ?? heads[text == textPrefixes[0] ? 0 : 1]
        let visionPrefixes = ["model.vision_tower.vision_model.", "model.vision_tower.", "vision_tower.vision_model.",
                              "vision_tower."]
        guard let vision = visionPrefixes.first(where: { source.contains($0 + "embeddings.position_embedding.weight") })
        else {
            throw ModelError.missingTensor(
                visionPrefixes.map { $0 + "embeddings.position_embedding.weight" }.joined(separator: " or "))
        }
        let projectors = ["model.multi_modal_projector.", "multi_modal_projector."]
        let projector = projectors.first(where: { source.contains($0 + "linear_1.weight") }) ?? projectors[1]
        return LlavaWeightNames(text: text, lmHead: lmHead, vision: vision, projector: projector)
    }
}

/// The text model's tensors of a LLaVA checkpoint under the plain causal-LM names `CausalLM` loads
/// (`model.*`, `lm_head.weight`).
struct LlavaTextWeights: WeightSource {
    let base: any WeightSource
    let names: [String]
    private let layout: LlavaWeightNames

    init(base: any WeightSource, layout: LlavaWeightNames) {
        self.base = base
        self.layout = layout
        var names: [String] = []
        for name in base.names {
            if name.hasPrefix(layout.text) {
                names.append("model." + name.dropFirst(layout.text.count))
            } else if name == layout.lmHead {
                names.append("lm_head.weight")
            }
        }
        self.names = names.sorted()
    }

    /// The checkpoint name of a causal-LM name.
    func stored(_ name: String) -> String {
        if name == "lm_head.weight" { return layout.lmHead }
        if name.hasPrefix("model.") { return layout.text + name.dropFirst("model.".count) }
        return name
    }

    func info(named name: String) throws -> TensorInfo {
        var info = try base.info(named: stored(name))
        info.name = name
        return info
    }

    func tensor(named name: String) throws -> TensorData {
        try base.tensor(named: stored(name))
    }
}
