import Compute
import GGUF

/// A tensor a model needs: its Hugging Face checkpoint name and the shape the config implies.
public struct WeightSpec: Sendable, Hashable {
    /// The checkpoint name.
    public var name: String
    /// The shape, outermost dimension first.
    public var shape: [Int]
}

extension ModelConfig {
    /// Every tensor the architecture reads from a Hugging Face checkpoint, with its shape, in a stable
    /// order (embeddings, then each layer, then the final norm and head). Used to validate checkpoints
    /// and to create `--load-format dummy` weights.
    public func expectedWeights() -> [WeightSpec] {
        let h = hiddenSize
        let qOut = numAttentionHeads * headDim
        let kvOut = numKeyValueHeads * headDim
        var specs: [WeightSpec] = [WeightSpec(name: "model.embed_tokens.weight", shape: [vocabSize, h])]
        func add(_ name: String, _ shape: [Int]) { specs.append(WeightSpec(name: name, shape: shape)) }
        func gatedMLP(_ prefix: String, _ inner: Int, bias: Bool) {
            add(prefix + "gate_proj.weight", [inner, h])
            add(prefix + "up_proj.weight", [inner, h])
            add(prefix + "down_proj.weight", [h, inner])
            if bias {
                add(prefix + "gate_proj.bias", [inner])
                add(prefix + "up_proj.bias", [inner])
                add(prefix + "down_proj.bias", [h])
            }
        }

        for layer in 0..<numHiddenLayers {
            let p = "model.layers.\(layer)."
            add(p + "input_layernorm.weight", [h])
            add(p + "post_attention_layernorm.weight", [h])
            if traits.sandwichNorms {
                add(p + "pre_feedforward_layernorm.weight", [h])
                add(p + "post_feedforward_layernorm.weight", [h])
            }

            let a = p + "self_attn."
            if traits.fusedProjections {
                add(a + "qkv_proj.weight", [qOut + 2 * kvOut, h])
            } else {
                add(a + "q_proj.weight", [qOut, h])
                add(a + "k_proj.weight", [kvOut, h])
                add(a + "v_proj.weight", [kvOut, h])
            }
            if attentionQKVBias {
                add(a + "q_proj.bias", [qOut])
                add(a + "k_proj.bias", [kvOut])
                add(a + "v_proj.bias", [kvOut])
            }
            add(a + "o_proj.weight", [h, qOut])
            if attentionOutputBias { add(a + "o_proj.bias", [h]) }
            if traits.qkNorm {
                add(a + "q_norm.weight", [headDim])
                add(a + "k_norm.weight", [headDim])
            }

            switch (family, moe) {
            case (.mixtral, let moe?):
                let m = p + "block_sparse_moe."
                add(m + "gate.weight", [moe.numExperts, h])
                for e in 0..<moe.numExperts {
                    add(m + "experts.\(e).w1.weight", [moe.expertIntermediateSize, h])
                    add(m + "experts.\(e).w2.weight", [h, moe.expertIntermediateSize])
                    add(m + "experts.\(e).w3.weight", [moe.expertIntermediateSize, h])
                }
            case (_, let moe?) where moe.isSparseLayer(layer):
                let m = p + "mlp."
                add(m + "gate.weight", [moe.numExperts, h])
                for e in 0..<moe.numExperts {
                    gatedMLP(m + "experts.\(e).", moe.expertIntermediateSize, bias: false)
                }
                if let shared = moe.sharedExpertIntermediateSize {
                    gatedMLP(m + "shared_expert.", shared, bias: false)
                    add(m + "shared_expert_gate.weight", [1, h])
                }
            default:
                if traits.fusedProjections {
                    add(p + "mlp.gate_up_proj.weight", [2 * intermediateSize, h])
                    add(p + "mlp.down_proj.weight", [h, intermediateSize])
                } else {
                    gatedMLP(p + "mlp.", intermediateSize, bias: mlpBias)
                }
            }
        }
        add("model.norm.weight", [h])
        if !tieWordEmbeddings { add("lm_head.weight", [vocabSize, h]) }
        return specs
    }

    /// Checks that `source` holds every expected weight with the expected shape and an element type the
    /// loaders read: a float type, or a ggml block format (GGUF's Q4_0 … Q8_0, K-quants) that `QuantizedMatrix`
    /// multiplies packed and `Dequantization` expands, with rows that are whole blocks.
    /// Extra tensors (e.g. a stored `lm_head.weight` of a tied model) are allowed.
    /// - Throws: `ModelError.missingTensor`, `.shapeMismatch` or `.unsupportedDType`, naming the tensor.
    public func validateWeights(_ source: any WeightSource) throws {
        for spec in expectedWeights() {
            let info = try source.info(named: spec.name)
            guard info.shape == spec.shape else {
                throw ModelError.shapeMismatch(tensor: spec.name, expected: spec.shape, actual: info.shape)
            }
            guard info.dtype.isConvertibleToFloat || Self.isLoadableBlock(info.dtype, shape: info.shape) else {
                throw ModelError.unsupportedDType(tensor: spec.name, dtype: info.dtype.description)
            }
        }
    }

    /// Whether `dtype` is a ggml block format with kernels here (its name, block length and block size all
    /// those of the ggml type) and `shape`'s rows are whole blocks of it.
    static func isLoadableBlock(_ dtype: TensorDType, shape: [Int]) -> Bool {
        guard case .block(let name, let perBlock, let bytesPerBlock) = dtype,
              let type = GGMLType.allCases.first(where: { $0.name == name }),
              type.isQuantized, QuantizedMatrix.supportedTypes.contains(type),
              type.blockSize == perBlock, type.typeSize == bytesPerBlock,
              let row = shape.last, row > 0, row % perBlock == 0
        else { return false }
        return true
    }
}
