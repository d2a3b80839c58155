import Compute

/// A matrix made of checkpoint tensors stacked by rows (a fused projection), with optional biases.
public struct StackedWeightNames: Sendable, Hashable {
    /// The stored tensors, in row order.
    public var parts: [String]
    /// Rows of each part.
    public var rows: [Int]
    /// Columns (the input width), shared by every part.
    public var cols: Int
    /// One bias per part, or nil when the projection has none.
    public var biases: [String]?

    /// A stack of `parts`.
    public init(parts: [String], rows: [Int], cols: Int, biases: [String]? = nil) {
        self.parts = parts
        self.rows = rows
        self.cols = cols
        self.biases = biases
    }

    /// Rows of the fused matrix.
    public var totalRows: Int { rows.reduce(0, +) }
}

/// The checkpoint tensors of one decoder layer of a dense-or-MoE family, as the config decides them: one
/// place that knows names, fusions and which optional norms exist (the CPU and device models both load
/// through it).
public struct DecoderLayerWeightNames: Sendable, Hashable {
    /// q/k/v projections fused (`[q heads | k heads | v heads] × headDim` rows).
    public var qkv: StackedWeightNames
    /// The attention output projection.
    public var output: StackedWeightNames
    /// Per-head q/k RMSNorm weights (Qwen3).
    public var qNorm: String?
    /// Per-head k RMSNorm weight (Qwen3).
    public var kNorm: String?
    /// The norm before attention.
    public var inputNorm: String
    /// The norm after attention (Gemma 2: of the attention output; else before the MLP).
    public var postAttentionNorm: String
    /// Gemma 2: the norm before the MLP.
    public var preFeedForwardNorm: String?
    /// Gemma 2: the norm of the MLP output.
    public var postFeedForwardNorm: String?
    /// gate and up projections fused (`[gate | up]` rows); nil for a mixture-of-experts layer.
    public var gateUp: StackedWeightNames?
    /// The down projection; nil for a mixture-of-experts layer.
    public var down: StackedWeightNames?
}

extension ModelConfig {
    /// The tensors of decoder layer `layer`.
    public func layerWeightNames(_ layer: Int) -> DecoderLayerWeightNames {
        let p = "model.layers.\(layer)."
        let a = p + "self_attn."
        let h = hiddenSize, hd = headDim
        let qOut = numAttentionHeads * hd, kvOut = numKeyValueHeads * hd
        let qkv: StackedWeightNames
        if traits.fusedProjections {
            qkv = StackedWeightNames(parts: [a + "qkv_proj.weight"], rows: [qOut + 2 * kvOut], cols: h)
        } else {
            let names = ["q_proj", "k_proj", "v_proj"]
            qkv = StackedWeightNames(parts: names.map { a + $0 + ".weight" }, rows: [qOut, kvOut, kvOut], cols: h,
                                     biases: attentionQKVBias ? names.map { a + $0 + ".bias" } : nil)
        }
        let output = StackedWeightNames(parts: [a + "o_proj.weight"], rows: [h], cols: qOut,
                                        biases: attentionOutputBias ? [a + "o_proj.bias"] : nil)
        let sandwich = traits.sandwichNorms
        var gateUp: StackedWeightNames?
        var down: StackedWeightNames?
        if isDenseFeedForward(layer) {
            let m = p + "mlp."
            let inner = intermediateSize
            let bias = mlpBias
            if traits.fusedProjections {
                gateUp = StackedWeightNames(parts: [m + "gate_up_proj.weight"], rows: [2 * inner], cols: h)
            } else {
                gateUp = StackedWeightNames(
                    parts: [m + "gate_proj.weight", m + "up_proj.weight"], rows: [inner, inner], cols: h,
                    biases: bias ? [m + "gate_proj.bias", m + "up_proj.bias"] : nil)
            }
            down = StackedWeightNames(parts: [m + "down_proj.weight"], rows: [h], cols: inner,
                                      biases: bias ? [m + "down_proj.bias"] : nil)
        }
        return DecoderLayerWeightNames(
            qkv: qkv, output: output,
            qNorm: traits.qkNorm ? a + "q_norm.weight" : nil, kNorm: traits.qkNorm ? a + "k_norm.weight" : nil,
            inputNorm: p + "input_layernorm.weight", postAttentionNorm: p + "post_attention_layernorm.weight",
            preFeedForwardNorm: sandwich ? p + "pre_feedforward_layernorm.weight" : nil,
            postFeedForwardNorm: sandwich ? p + "post_feedforward_layernorm.weight" : nil,
            gateUp: gateUp, down: down)
    }

    /// Whether layer `layer` has a plain gated MLP (not a mixture of experts).
    public func isDenseFeedForward(_ layer: Int) -> Bool {
        switch family {
        case .mixtral: return false
        case .qwen2Moe, .qwen3Moe: return !(moe?.isSparseLayer(layer) ?? false)
        case .llama, .mistral, .qwen2, .qwen3, .phi3, .gemma, .gemma2: return true
        }
    }
}

extension WeightSource {
    /// The stacked matrix as row-major fp32 (`totalRows × cols`), packed GGUF blocks dequantized; shapes
    /// are checked against the names' rows and columns.
    public func stackedFloats(_ names: StackedWeightNames) throws -> [Float] {
        let cols = names.cols
        var out = [Float](repeating: 0, count: names.totalRows * cols)
        let quantized = self as? any QuantizedWeightSource
        try out.withUnsafeMutableBufferPointer { dst in
            guard let base = dst.baseAddress else { return }
            var offset = 0
            for (name, n) in zip(names.parts, names.rows) {
                let info = try self.info(named: name)
                guard info.shape == [n, cols] else {
                    throw ModelError.shapeMismatch(tensor: name, expected: [n, cols], actual: info.shape)
                }
                if let kernel = try quantized?.quantizedMatrix(named: name) {
                    for r in 0..<n { kernel.dequantizeRow(r, into: base + (offset + r) * cols) }
                } else {
                    try tensor(named: name).copyFloats(into: UnsafeMutableBufferPointer(start: base + offset * cols, count: n * cols))
                }
                offset += n
            }
        }
        return out
    }

    /// The stacked biases as fp32, or nil when the names have none.
    public func stackedBiases(_ names: StackedWeightNames) throws -> [Float]? {
        guard let biases = names.biases else { return nil }
        var out: [Float] = []
        out.reserveCapacity(names.totalRows)
        for (name, n) in zip(biases, names.rows) {
            let t = try tensor(named: name)
            guard t.elementCount == n, t.shape.count <= 2 else {
                throw ModelError.shapeMismatch(tensor: name, expected: [n], actual: t.shape)
            }
            out += try t.floats()
        }
        return out
    }

    /// A vector of `count` values as fp32 (norm weights).
    public func vectorFloats(_ name: String, count: Int) throws -> [Float] {
        let t = try tensor(named: name)
        guard t.elementCount == count, t.shape.count <= 2 else {
            throw ModelError.shapeMismatch(tensor: name, expected: [count], actual: t.shape)
        }
        return try t.floats()
    }
}

/// The checkpoint tensors of one mixture-of-experts block, stacked the way a device model stores them.
public struct MoELayerWeightNames: Sendable, Hashable {
    /// The router (`experts` rows), followed by the shared expert's gate row when there is one.
    public var router: StackedWeightNames
    /// Every expert's gate and up projections, expert by expert: `[experts × (gate | up)] × hidden`.
    public var expertGateUp: StackedWeightNames
    /// Every expert's down projection, expert by expert: `[experts × hidden] × inner`.
    public var expertDown: StackedWeightNames
    /// The shared expert's fused gate/up projection (Qwen2-MoE), nil when there is none.
    public var sharedGateUp: StackedWeightNames?
    /// The shared expert's down projection.
    public var sharedDown: StackedWeightNames?
}

extension ModelConfig {
    /// The mixture-of-experts tensors of layer `layer`; nil for a dense layer.
    public func moeWeightNames(_ layer: Int) -> MoELayerWeightNames? {
        guard !isDenseFeedForward(layer), let moe else { return nil }
        let h = hiddenSize, inner = moe.expertIntermediateSize, experts = moe.numExperts
        let p = "model.layers.\(layer)." + (family == .mixtral ? "block_sparse_moe." : "mlp.")
        let (gate, up, down) = family == .mixtral ? ("w1", "w3", "w2") : ("gate_proj", "up_proj", "down_proj")
        var routerParts = [p + "gate.weight"], routerRows = [experts]
        var sharedGateUp: StackedWeightNames?
        var sharedDown: StackedWeightNames?
        if let shared = moe.sharedExpertIntermediateSize {
            let s = p + "shared_expert."
            routerParts.append(p + "shared_expert_gate.weight")
            routerRows.append(1)
            sharedGateUp = StackedWeightNames(parts: [s + "gate_proj.weight", s + "up_proj.weight"], rows: [shared, shared],
                                              cols: h)
            sharedDown = StackedWeightNames(parts: [s + "down_proj.weight"], rows: [h], cols: shared)
        }
        let expert = (0..<experts).map { p + "experts.\($0)." }
        return MoELayerWeightNames(
            router: StackedWeightNames(parts: routerParts, rows: routerRows, cols: h),
            expertGateUp: StackedWeightNames(parts: expert.flatMap { [$0 + gate + ".weight", $0 + up + ".weight"] },
                                             rows: Array(repeating: inner, count: 2 * experts), cols: h),
            expertDown: StackedWeightNames(parts: expert.map { $0 + down + ".weight" },
                                           rows: Array(repeating: h, count: experts), cols: inner),
            sharedGateUp: sharedGateUp, sharedDown: sharedDown)
    }
}
