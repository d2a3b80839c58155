import Foundation
import Models
import Testing

/// Megatron's split of the tiny fixtures' real weights: each GPU's slice, run through plain loops here, sums
/// (row-parallel) or concatenates (column-parallel) to what the whole matrices compute — the identity tensor
/// parallelism rests on. The CUDA model uploads exactly these slices (`WeightSource.forEachShardedPart`).
@Suite struct TensorParallelShardTests {
    func load(_ name: String) throws -> (ModelConfig, SafetensorsModel) {
        let folder = try Fixtures.shared("tiny/\(name)")
        return (try ModelConfig.load(from: folder), try SafetensorsModel(folder: folder))
    }

    /// The slice `source` gives rank `rank` of `size` under `split`, concatenated.
    func slice(_ source: SafetensorsModel, _ names: StackedWeightNames, _ split: TensorParallelShard.Split, rank: Int,
               size: Int) throws -> [Float] {
        var out: [Float] = []
        try source.forEachShardedPart(names, split: split, shard: TensorParallelShard(rank: rank, size: size)) {
            out += $0
        }
        return out
    }

    /// `W · x` for a row-major `W` of `x.count` columns.
    func multiply(_ w: [Float], _ x: [Float]) -> [Float] {
        let cols = x.count
        return (0..<(w.count / cols)).map { r in (0..<cols).reduce(Float(0)) { $0 + w[r * cols + $1] * x[$1] } }
    }

    func silu(_ v: Float) -> Float { v / (1 + exp(-v)) }

    func randomVector(_ n: Int, seed: UInt64) -> [Float] {
        var g = SafetensorsMutationTests.SeededGenerator(state: seed)
        return (0..<n).map { _ in Float.random(in: -1...1, using: &g) }
    }

    @Test func localConfigDividesHeadsAndWidths() throws {
        let (config, _) = try load("llama")
        #expect(config.numAttentionHeads == 4 && config.numKeyValueHeads == 2 && config.intermediateSize == 128)
        let two = try TensorParallelShard(rank: 1, size: 2).localConfig(config)
        #expect(two.numAttentionHeads == 2 && two.numKeyValueHeads == 1 && two.intermediateSize == 64)
        #expect(two.headDim == config.headDim && two.hiddenSize == config.hiddenSize && two.vocabSize == config.vocabSize)
        // Four GPUs over two KV heads: each GPU keeps one (replicated on two GPUs).
        let four = try TensorParallelShard(rank: 3, size: 4).localConfig(config)
        #expect(four.numAttentionHeads == 1 && four.numKeyValueHeads == 1 && four.intermediateSize == 32)
        for size in [3, 8] {
            #expect {
                _ = try TensorParallelShard(rank: 0, size: size).localConfig(config)
            } throws: { error in
                "\(error)".contains("--tp-size \(size)") && "\(error)".contains("attention heads")
            }
        }
        #expect(throws: ModelError.self) { try TensorParallelShard(rank: 2, size: 2) }
        #expect(throws: ModelError.self) { try TensorParallelShard(rank: 0, size: 0) }
        let (moeConfig, _) = try load("qwen3_moe")
        let moeLocal = try TensorParallelShard(rank: 0, size: 2).localConfig(moeConfig)
        #expect(moeLocal.moe?.expertIntermediateSize == (moeConfig.moe?.expertIntermediateSize ?? 0) / 2)
    }

    /// The gated MLP: Σ over GPUs of down_r(act(gate_r x) · up_r x) equals the whole MLP, on 2 and 4 GPUs.
    @Test(arguments: ["llama", "qwen2", "gemma2"])
    func gatedMLPSumsOverGPUs(model: String) throws {
        let (config, source) = try load(model)
        let names = config.layerWeightNames(0)
        guard let gateUp = names.gateUp, let down = names.down else { throw Fixtures.FixtureMissing(path: "dense layer 0") }
        let h = config.hiddenSize, inner = config.intermediateSize
        let x = randomVector(h, seed: 7)
        func act(_ v: Float) -> Float {
            guard config.hiddenActivation != .silu else { return silu(v) }
            let inner: Float = 0.7978845608 * (v + 0.044715 * v * v * v)
            return 0.5 * v * (1 + tanh(inner))
        }
        func mlp(_ gu: [Float], _ d: [Float], width: Int) -> [Float] {
            let y = multiply(gu, x)
            let a = (0..<width).map { act(y[$0]) * y[width + $0] }
            return multiply(d, a)
        }
        let whole = mlp(try source.stackedFloats(gateUp), try source.stackedFloats(down), width: inner)
        for size in [2, 4] {
            var sum = [Float](repeating: 0, count: h)
            for rank in 0..<size {
                let gu = try slice(source, gateUp, .rows(DecoderLayerWeightNames.gateUpSegments(inner: inner)), rank: rank,
                                   size: size)
                let d = try slice(source, down, .columns, rank: rank, size: size)
                #expect(gu.count == 2 * inner / size * h && d.count == h * inner / size)
                let part = mlp(gu, d, width: inner / size)
                for i in 0..<h { sum[i] += part[i] }
            }
            let err = zip(sum, whole).map { abs($0 - $1) }.max() ?? 1
            #expect(err < 1e-4, "\(model) tp=\(size): max |Σ slices − whole| = \(err)")
        }
    }

    /// q/k/v: each GPU's rows are its query heads and its KV heads (shared by neighbouring GPUs when there are
    /// fewer KV heads than GPUs), with the matching biases; o_proj's column slices sum to the whole product.
    @Test(arguments: ["qwen2", "llama-tied-mha"])
    func attentionProjectionsSplitByHeads(model: String) throws {
        let (config, source) = try load(model)
        let names = config.layerWeightNames(0)
        let h = config.hiddenSize, hd = config.headDim
        let (nq, nkv) = (config.numAttentionHeads, config.numKeyValueHeads)
        let whole = try source.stackedFloats(names.qkv)
        let wholeBias = try source.stackedBiases(names.qkv)
        let split = TensorParallelShard.Split.rows(DecoderLayerWeightNames.qkvSegments(config))
        for size in [2, 4] {
            for rank in 0..<size {
                // Expected heads, worked out independently of the shard's range arithmetic.
                let qHeads = Array((rank * nq / size)..<((rank + 1) * nq / size))
                let kvHeads = nkv >= size ? Array((rank * nkv / size)..<((rank + 1) * nkv / size)) : [rank * nkv / size]
                func headRows(_ heads: [Int], from start: Int) -> [Int] {
                    heads.flatMap { head -> [Int] in (0..<hd).map { start + head * hd + $0 } }
                }
                let rows: [Int] = headRows(qHeads, from: 0) + headRows(kvHeads, from: nq * hd)
                    + headRows(kvHeads, from: (nq + nkv) * hd)
                let expected = rows.flatMap { r in whole[(r * h)..<((r + 1) * h)] }
                #expect(try slice(source, names.qkv, split, rank: rank, size: size) == expected, "\(model) \(rank)/\(size)")
                let bias = try source.shardedBiases(names.qkv, split: split, shard: TensorParallelShard(rank: rank, size: size))
                #expect(bias == wholeBias.map { b in rows.map { b[$0] } })
            }
            // Row-parallel o_proj: Σ_r W[:, cols_r] · a[cols_r] = W · a.
            let a = randomVector(nq * hd, seed: 11)
            let wo = try source.stackedFloats(names.output)
            var sum = [Float](repeating: 0, count: h)
            for rank in 0..<size {
                let cols = (rank * nq * hd / size)..<((rank + 1) * nq * hd / size)
                let part = multiply(try slice(source, names.output, .columns, rank: rank, size: size), Array(a[cols]))
                for i in 0..<h { sum[i] += part[i] }
            }
            let err = zip(sum, multiply(wo, a)).map { abs($0 - $1) }.max() ?? 1
            #expect(err < 1e-4, "\(model) o_proj tp=\(size): \(err)")
        }
    }

    /// Experts: each GPU holds every expert's slice (gate/up rows, down columns); Σ over GPUs of each expert's
    /// MLP equals the whole expert.
    @Test func expertStacksSplitPerExpert() throws {
        let (config, source) = try load("qwen3_moe")
        guard let moe = config.moe,
              let layer = (0..<config.numHiddenLayers).first(where: { config.moeWeightNames($0) != nil }),
              let names = config.moeWeightNames(layer) else { throw Fixtures.FixtureMissing(path: "a sparse layer") }
        let h = config.hiddenSize, inner = moe.expertIntermediateSize, experts = moe.numExperts
        let x = randomVector(h, seed: 5)
        let gateUpWhole = try source.stackedFloats(names.expertGateUp)
        let downWhole = try source.stackedFloats(names.expertDown)
        func expert(_ gu: [Float], _ d: [Float], e: Int, width: Int) -> [Float] {
            let y = multiply(Array(gu[(e * 2 * width * h)..<((e + 1) * 2 * width * h)]), x)
            let a = (0..<width).map { silu(y[$0]) * y[width + $0] }
            return multiply(Array(d[(e * h * width)..<((e + 1) * h * width)]), a)
        }
        let size = 2
        let slices = try (0..<size).map { rank in
            (try slice(source, names.expertGateUp,
                       .rows(DecoderLayerWeightNames.gateUpSegments(inner: inner, experts: experts)), rank: rank, size: size),
             try slice(source, names.expertDown, .columns, rank: rank, size: size))
        }
        for e in 0..<experts {
            let whole = expert(gateUpWhole, downWhole, e: e, width: inner)
            var sum = [Float](repeating: 0, count: h)
            for (gu, d) in slices {
                let part = expert(gu, d, e: e, width: inner / size)
                for i in 0..<h { sum[i] += part[i] }
            }
            let err = zip(sum, whole).map { abs($0 - $1) }.max() ?? 1
            #expect(err < 1e-4, "expert \(e): \(err)")
        }
    }
}
