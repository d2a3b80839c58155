import CCUDA
import Compute
import Foundation

/// One line of `sglang cuda-check`.
public struct CUDAKernelCheckResult: Sendable {
    /// Kernel (and case) checked.
    public var kernel: String
    /// Largest |gpu − reference| over every element.
    public var maxAbsError: Double
    /// ‖gpu − reference‖₂ / ‖reference‖₂ (for sampling: total-variation distance of the empirical distribution).
    public var relError: Double
    /// Largest `relError` that passes.
    public var tolerance: Double
    /// Whether every output element was written (no poison left), finite where the reference is, and within tolerance.
    public var passed: Bool
    /// Extra detail (failure reason, shapes).
    public var note: String
}

/// Runs every kernel on the GPU against the CPU backend (or an exact Swift reference) on fresh random inputs,
/// with outputs poisoned (NaN-filled) before each launch so an unwritten element fails.
public final class CUDAKernelCheck {
    let context: CUDAContext
    let stream: CUDAStream
    let kernels: CUDAKernels
    let cpu = CPUBackend()
    var rng: CheckRandom
    /// The seed of this run's inputs.
    public let seed: UInt64
    /// RoPE cases (name, inverse frequencies and attention factor), e.g. one per scaling type.
    public var rotaryCases: [(name: String, rotary: RotaryEmbedding)] = []

    /// NaN in every 32-bit word: one fp32 NaN or two bf16 NaNs.
    static let poison: UInt32 = 0x7FC0_7FC0

    /// Compiles (or loads) the kernels on `context`.
    public init(context: CUDAContext, kernels: CUDAKernels, seed: UInt64? = nil) throws {
        self.context = context
        self.kernels = kernels
        stream = try CUDAStream(context: context)
        var system = SystemRandomNumberGenerator()
        self.seed = seed ?? system.next()
        rng = CheckRandom(seed: self.seed)
    }

    /// Every check; a check that throws is reported as a failed row.
    public func runAll() -> [CUDAKernelCheckResult] {
        var rows: [CUDAKernelCheckResult] = []
        func run(_ name: String, _ body: () throws -> [CUDAKernelCheckResult]) {
            do { rows += try body() } catch {
                rows.append(CUDAKernelCheckResult(kernel: name, maxAbsError: .nan, relError: .nan, tolerance: 0,
                                                  passed: false, note: "\(error)"))
            }
        }
        for t in CUDAElementType.allCases {
            run("embedding_\(t.rawValue)") { try checkEmbedding(t) }
            run("gather_rows_\(t.rawValue)") { try checkGatherRows(t) }
            run("add_rmsnorm_\(t.rawValue)") { try checkAddRMSNorm(t) }
            run("rope_store_kv_\(t.rawValue)") { try checkRope(t) }
            run("gated_act_\(t.rawValue)") { try checkGatedActivation(t) }
            run("decode_attention_\(t.rawValue)") { try checkDecodeAttention(t) }
            run("extend_attention_\(t.rawValue)") { try checkExtendAttention(t) }
            run("apply_bitmask_\(t.rawValue)") { try checkBitmask(t) }
            run("argmax_\(t.rawValue)") { try checkArgmax(t) }
            run("add_bias_\(t.rawValue)") { try checkAddBias(t) }
            run("head_rmsnorm_\(t.rawValue)") { try checkHeadRMSNorm(t) }
            run("fill_uniform_\(t.rawValue)") { try checkFillUniform(t) }
            run("moe_gemm_\(t.rawValue)") { try checkMoEGemmCombine(t) }
        }
        run("softcap_f32") { try checkSoftcap() }
        run("record_slots") { try checkRecordSlots() }
        run("take_carried") { try checkTakeCarried() }
        run("moe_route") { try checkMoERouting() }
        run("sample") { try checkSampling() }
        run("logit_edits") { try checkLogitEdits() }
        run("cublaslt_gemm") { try checkGEMM() }
        run("gemv") { try checkGEMV() }
        run("gemv_norm") { try checkGEMVNorm() }
        run("graph_replay") { try checkGraphReplay() }
        return rows
    }

    // MARK: - Buffers

    static func tolerance(_ t: CUDAElementType) -> Double { t == .float32 ? 1e-5 : 1e-2 }

    /// Uploads `values` as `type`; returns the buffer and the values as the GPU sees them (bf16-rounded).
    func upload(_ values: [Float], _ type: CUDAElementType) throws -> (CUDADeviceBuffer, [Float]) {
        switch type {
        case .float32:
            return (try CUDADeviceBuffer(context: context, copying: values), values)
        case .bfloat16:
            let bits = values.map(BFloat16Conversion.bits)
            return (try CUDADeviceBuffer(context: context, copying: bits), bits.map(BFloat16Conversion.float))
        }
    }

    func poisoned(_ count: Int, _ type: CUDAElementType) throws -> CUDADeviceBuffer {
        let b = try CUDADeviceBuffer(context: context, byteCount: (count * type.size + 3) / 4 * 4)
        try b.fill(word: Self.poison, on: stream)
        return b
    }

    func download(_ b: CUDADeviceBuffer, _ count: Int, _ type: CUDAElementType) throws -> [Float] {
        switch type {
        case .float32: return try b.download(Float.self, count: count, on: stream)
        case .bfloat16: return try b.download(UInt16.self, count: count, on: stream).map(BFloat16Conversion.float)
        }
    }

    func randoms(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in rng.normal() * scale } }

    /// Error of `gpu` against `reference`; NaN in the output where the reference is finite fails the row.
    static func compare(_ name: String, _ gpu: [Float], _ reference: [Float], tolerance: Double, note: String = "")
        -> CUDAKernelCheckResult
    {
        var maxAbs = 0.0, diff2 = 0.0, ref2 = 0.0, unwritten = 0
        for (g, r) in zip(gpu, reference) {
            if g.isNaN != r.isNaN || (g.isInfinite || r.isInfinite) && g != r {
                unwritten += 1
                continue
            }
            if g.isNaN || g.isInfinite { continue }
            let d = Double(g) - Double(r)
            maxAbs = max(maxAbs, abs(d))
            diff2 += d * d
            ref2 += Double(r) * Double(r)
        }
        let rel = ref2 > 0 ? (diff2 / ref2).squareRoot() : diff2.squareRoot()
        let ok = unwritten == 0 && gpu.count == reference.count && rel <= tolerance
        var text = note
        if unwritten > 0 { text += (text.isEmpty ? "" : "; ") + "\(unwritten) elements NaN/inf where the reference is not" }
        return CUDAKernelCheckResult(kernel: name, maxAbsError: maxAbs, relError: rel, tolerance: tolerance, passed: ok,
                                     note: text)
    }

    /// One row for several comparisons of a kernel: the worst errors, the loosest tolerance shown (each part
    /// passed or failed against its own).
    static func merge(_ name: String, _ parts: [CUDAKernelCheckResult], note: String) -> CUDAKernelCheckResult {
        CUDAKernelCheckResult(
            kernel: name, maxAbsError: parts.map(\.maxAbsError).max() ?? .nan, relError: parts.map(\.relError).max() ?? .nan,
            tolerance: parts.map(\.tolerance).max() ?? 0, passed: !parts.isEmpty && parts.allSatisfy(\.passed),
            note: ([note] + parts.map(\.note).filter { !$0.isEmpty }).joined(separator: "; "))
    }

    // MARK: - Element-wise kernels

    func checkEmbedding(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let vocab = 1000, dim = 520, tokens = 37
        var rows: [CUDAKernelCheckResult] = []
        for scale in [nil, Float(22.627417)] as [Float?] {
            let (table, tableValues) = try upload(randoms(vocab * dim), t)
            let ids = (0..<tokens).map { _ in Int32(rng.below(vocab)) }
            let idBuffer = try CUDADeviceBuffer(context: context, copying: ids)
            let out = try poisoned(tokens * dim, t)
            try kernels.embedding(out: out.address, table: table.address, ids: idBuffer.address, tokens: tokens, dim: dim,
                                  vocab: vocab, scale: scale, type: t, stream: stream)
            let gpu = try download(out, tokens * dim, t)
            let ref = FloatBuffer(count: tokens * dim)
            try cpu.embedding(ids: ids, table: WeightMatrix(rows: vocab, cols: dim, values: tableValues), scale: scale,
                              output: ref)
            let expected = t == .bfloat16 ? ref.toArray().map(BFloat16Conversion.round) : ref.toArray()
            rows.append(Self.compare("embedding_\(t.rawValue)\(scale == nil ? "" : " scaled")", gpu, expected,
                                     tolerance: Self.tolerance(t), note: "\(tokens)×\(dim) of \(vocab)"))
        }
        return rows
    }

    func checkGatherRows(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let n = 50, dim = 1003, count = 13
        let (src, values) = try upload(randoms(n * dim), t)
        let indices = (0..<count).map { _ in rng.below(n) }
        let idx = try CUDADeviceBuffer(context: context, copying: indices.map(Int32.init))
        let out = try poisoned(count * dim, t)
        try kernels.gatherRows(src: src.address, out: out.address, indices: idx.address, count: count, dim: dim, type: t,
                               stream: stream)
        let ref = FloatBuffer(count: count * dim)
        cpu.gatherRows(FloatBuffer(values), indices: indices, dim: dim, output: ref)
        return [Self.compare("gather_rows_\(t.rawValue)", try download(out, count * dim, t), ref.toArray(), tolerance: 0,
                             note: "\(count) of \(n) rows × \(dim)")]
    }

    func checkAddRMSNorm(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        var rows: [CUDAKernelCheckResult] = []
        for (dim, addOne, withDelta) in [(2048, false, true), (1000, true, true), (576, false, false)] {
            let n = 17
            let (res, resValues) = try upload(randoms(n * dim), t)
            let (delta, deltaValues) = try upload(randoms(n * dim), t)
            let (w, wValues) = try upload(randoms(dim, scale: 0.5).map { $0 + (addOne ? 0 : 1) }, t)
            let out = try poisoned(n * dim, t)
            try kernels.addRMSNorm(residual: res.address, delta: withDelta ? delta.address : nil, weight: w.address,
                                   out: out.address, rows: n, dim: dim, eps: 1e-6, addOne: addOne, type: t, stream: stream)
            let gpuOut = try download(out, n * dim, t)
            let gpuRes = try download(res, n * dim, t)
            // Reference: the residual sum rounded to the element type (what is stored), then the CPU norm.
            var sum = withDelta ? zip(resValues, deltaValues).map { $0 + $1 } : resValues
            if t == .bfloat16 { sum = sum.map(BFloat16Conversion.round) }
            let refOut = FloatBuffer(count: n * dim)
            cpu.rmsNorm(FloatBuffer(sum), rows: n, dim: dim, weight: FloatBuffer(wValues), eps: 1e-6, addOne: addOne,
                        output: refOut)
            let name = "add_rmsnorm_\(t.rawValue)" + (addOne ? " gemma" : "") + (withDelta ? "" : " (no add)")
            let a = Self.compare(name, gpuOut, refOut.toArray(), tolerance: Self.tolerance(t))
            let b = Self.compare(name, gpuRes, sum, tolerance: 0, note: "residual")
            rows.append(Self.merge(name, [a, b], note: "\(n)×\(dim)"))
        }
        return rows
    }

    func checkGatedActivation(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        var rows: [CUDAKernelCheckResult] = []
        let cases: [(String, GatedActivation, Int32)] = [
            ("silu", .silu, 0), ("gelu_tanh", .geluTanh, 1), ("gelu", .gelu, 2),
        ]
        for (name, act, code) in cases {
            // GELU-tanh on a width that is no multiple of 16 bytes: the kernel's per-element path.
            let tokens = 7, inner = code == 1 ? 1501 : 1536
            let (gu, values) = try upload(randoms(tokens * 2 * inner, scale: 2), t)
            let out = try poisoned(tokens * inner, t)
            try kernels.gatedActivation(gateUp: gu.address, out: out.address, tokens: tokens, inner: inner,
                                        activation: code, type: t, stream: stream)
            let ref = FloatBuffer(count: tokens * inner)
            cpu.gatedActivation(FloatBuffer(values), tokens: tokens, inner: inner, activation: act, output: ref)
            rows.append(Self.compare("gated_act_\(t.rawValue) \(name)", try download(out, tokens * inner, t), ref.toArray(),
                                     tolerance: Self.tolerance(t), note: "\(tokens)×\(inner)"))
        }
        return rows
    }

    // MARK: - RoPE + KV store

    func checkRope(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        var cases = rotaryCases
        if cases.isEmpty {
            let inv = (0..<64).map { i in 1 / Float(pow(10_000.0, Double(2 * i) / 128)) }
            cases = [("default", RotaryEmbedding(inverseFrequencies: inv))]
        }
        var rows: [CUDAKernelCheckResult] = []
        for (name, rotary) in cases {
            let qHeads = 8, kvHeads = 2, headDim = 128, tokens = 9, slots = 64
            guard rotary.rotaryDim <= headDim else {
                throw CUDAError.invalidArgument("rotary case \(name) rotates \(rotary.rotaryDim) > \(headDim) channels")
            }
            let layout = QKVLayout(qHeads: qHeads, kvHeads: kvHeads, headDim: headDim)
            let positions = (0..<tokens).map { _ in Int32(rng.below(9000)) }
            var slotPool = Array(1..<Int32(slots))
            slotPool.shuffle(using: &rng)
            let outLoc = Array(slotPool.prefix(tokens))
            let (qkv, qkvValues) = try upload(randoms(tokens * layout.width), t)
            let kc = try poisoned(slots * kvHeads * headDim, t), vc = try poisoned(slots * kvHeads * headDim, t)
            let pos = try CUDADeviceBuffer(context: context, copying: positions)
            let loc = try CUDADeviceBuffer(context: context, copying: outLoc)
            let inv = try CUDADeviceBuffer(context: context, copying: rotary.inverseFrequencies)
            try kernels.ropeStoreKV(
                qkv: qkv.address, kCache: kc.address, vCache: vc.address, positions: pos.address, outLoc: loc.address,
                inverseFrequencies: inv.address, rotaryHalf: rotary.inverseFrequencies.count,
                attentionFactor: rotary.attentionFactor, tokens: tokens, qHeads: qHeads, kvHeads: kvHeads,
                headDim: headDim, type: t, stream: stream)
            let gpuQKV = try download(qkv, tokens * layout.width, t)
            let gpuK = try download(kc, slots * kvHeads * headDim, t), gpuV = try download(vc, slots * kvHeads * headDim, t)

            let refQKV = FloatBuffer(qkvValues)
            let pool = TokenToKVPool(size: slots, layerCount: 1, kvHeads: kvHeads, headDim: headDim)
            let batch = ForwardBatch(mode: .extend, inputIds: [Int32](repeating: 0, count: tokens), positions: positions,
                                     outCacheLoc: outLoc, reqPoolIndices: [0], prefixLens: [0], extendLens: [tokens])
            cpu.ropeAndStoreKV(refQKV, layout: layout, batch: batch, rotary: rotary, kvPool: pool, layer: 0)
            let stride = kvHeads * headDim
            var gk: [Float] = [], rk: [Float] = [], gv: [Float] = [], rv: [Float] = []
            for s in outLoc.map(Int.init) {
                gk += gpuK[(s * stride)..<((s + 1) * stride)]
                gv += gpuV[(s * stride)..<((s + 1) * stride)]
                rk += pool.keys[0].toArray(offset: s * stride, count: stride)
                rv += pool.values[0].toArray(offset: s * stride, count: stride)
            }
            let label = "rope_store_kv_\(t.rawValue) \(name)"
            rows.append(Self.merge(label, [
                Self.compare(label, gpuQKV, refQKV.toArray(), tolerance: Self.tolerance(t), note: ""),
                Self.compare(label, gk, rk, tolerance: Self.tolerance(t), note: ""),
                Self.compare(label, gv, rv, tolerance: Self.tolerance(t), note: ""),
            ], note: "rot \(rotary.rotaryDim)/\(headDim), pos < 9000"))
        }
        return rows
    }

    // MARK: - Decode attention

    func checkDecodeAttention(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        struct Case {
            var qHeads: Int, kvHeads: Int, headDim: Int, splits: Int?, softcap: Float?, window: Int?
        }
        let cases = [
            Case(qHeads: 16, kvHeads: 4, headDim: 128, splits: nil, softcap: nil, window: nil),
            Case(qHeads: 28, kvHeads: 4, headDim: 128, splits: 1, softcap: nil, window: nil),
            Case(qHeads: 8, kvHeads: 8, headDim: 64, splits: 32, softcap: nil, window: nil),
            Case(qHeads: 8, kvHeads: 2, headDim: 256, splits: 4, softcap: 50, window: 100),
            Case(qHeads: 9, kvHeads: 3, headDim: 64, splits: 7, softcap: nil, window: 33),
            Case(qHeads: 4, kvHeads: 2, headDim: 16, splits: 3, softcap: nil, window: nil),
            Case(qHeads: 4, kvHeads: 1, headDim: 32, splits: nil, softcap: 30, window: 5),
            Case(qHeads: 16, kvHeads: 2, headDim: 128, splits: 3, softcap: 30, window: 50),
            Case(qHeads: 24, kvHeads: 2, headDim: 64, splits: nil, softcap: nil, window: nil),
        ]
        var rows: [CUDAKernelCheckResult] = []
        for c in cases {
            let batch = 5, maxContext = 1024
            let seqLens = (0..<batch).map { i in i == 0 ? 1 : 1 + rng.below(700) }
            let layout = QKVLayout(qHeads: c.qHeads, kvHeads: c.kvHeads, headDim: c.headDim)
            let slotCount = seqLens.reduce(0, +) + 1
            var slotPool = Array(1..<Int32(slotCount))
            slotPool.shuffle(using: &rng)
            let reqToToken = ReqToTokenPool(maxRequests: batch + 2, maxContext: maxContext)
            let rowsOfRequests = (0..<batch).map { Int32($0 + 2) }  // not the identity, to exercise the indirection
            var used = 0
            for i in 0..<batch {
                try reqToToken.write(row: Int(rowsOfRequests[i]), start: 0, slots: Array(slotPool[used..<(used + seqLens[i])]))
                used += seqLens[i]
            }
            let stride = c.kvHeads * c.headDim
            let (kc, kValues) = try upload(randoms(slotCount * stride), t)
            let (vc, vValues) = try upload(randoms(slotCount * stride), t)
            let (qkv, qkvValues) = try upload(randoms(batch * layout.width), t)
            let pool = TokenToKVPool(size: slotCount, layerCount: 1, kvHeads: c.kvHeads, headDim: c.headDim)
            _ = pool.keys[0].buffer.update(fromContentsOf: kValues)
            _ = pool.values[0].buffer.update(fromContentsOf: vValues)
            let table = try CUDADeviceBuffer(context: context, copying: Array(UnsafeBufferPointer(
                start: reqToToken.table, count: reqToToken.maxRequests * maxContext)))
            let rowsBuffer = try CUDADeviceBuffer(context: context, copying: rowsOfRequests)
            let lens = try CUDADeviceBuffer(context: context, copying: seqLens.map(Int32.init))
            let splits = c.splits ?? kernels.suggestedSplits(batch: batch, qHeads: c.qHeads, kvHeads: c.kvHeads,
                                                             maxSequence: seqLens.max() ?? 1)
            let scale = 1 / Float(c.headDim).squareRoot()
            let forward = ForwardBatch(
                mode: .decode, inputIds: [Int32](repeating: 0, count: batch), positions: seqLens.map { Int32($0 - 1) },
                outCacheLoc: (0..<batch).map { reqToToken.slot(row: Int(rowsOfRequests[$0]), position: seqLens[$0] - 1) },
                reqPoolIndices: rowsOfRequests, prefixLens: seqLens.map { $0 - 1 }, extendLens: [Int](repeating: 1, count: batch))
            let ref = FloatBuffer(count: batch * c.qHeads * c.headDim)
            cpu.attention(FloatBuffer(qkvValues), layout: layout, batch: forward, reqToToken: reqToToken, kvPool: pool,
                          layer: 0, parameters: AttentionParameters(scale: scale, softcap: c.softcap, slidingWindow: c.window),
                          output: ref)
            var note = "b\(batch) \(c.qHeads)/\(c.kvHeads)h d\(c.headDim) splits \(splits) len≤\(seqLens.max() ?? 0)"
            if let s = c.softcap { note += " cap \(Int(s))" }
            if let w = c.window { note += " win \(w)" }
            let name = "decode_attention_\(t.rawValue) hd\(c.headDim)"
            var parts: [CUDAKernelCheckResult] = []
            // Both kernels where the tensor-core one serves the shape; it merges with the merge kernel, then by
            // itself through split counters, twice (the counters must be left zeroed for the next launch).
            let tensorCores = CUDAKernels.tensorCoreDecode(type: t, headDim: c.headDim, enabled: true)
            let counters = try CUDADeviceBuffer(
                context: context, byteCount: CUDAKernels.decodeSplitCounters(batch: batch, qHeads: c.qHeads) * 4)
            try counters.fill(word: 0, on: stream)
            let variants: [(tc: Bool, counters: CUdeviceptr?)] =
                tensorCores ? [(false, nil), (true, nil), (true, counters.address), (true, counters.address)] : [(false, nil)]
            for v in variants {
                let partialOut = try poisoned(batch * c.qHeads * splits * c.headDim, .float32)
                let partialLSE = try poisoned(batch * c.qHeads * splits, .float32)
                let out = try poisoned(batch * c.qHeads * c.headDim, t)
                try kernels.decodeAttention(
                    q: qkv.address, qStride: layout.width, kCache: kc.address, vCache: vc.address, reqToToken: table.address,
                    reqToTokenStride: maxContext, reqPoolIndices: rowsBuffer.address, seqLens: lens.address, out: out.address,
                    partialOut: partialOut.address, partialLSE: partialLSE.address, batch: batch, qHeads: c.qHeads,
                    kvHeads: c.kvHeads, headDim: c.headDim, splits: splits, scale: scale, softcap: c.softcap,
                    window: c.window, type: t, tensorCores: v.tc, splitCounters: v.counters, stream: stream)
                let gpu = try download(out, batch * c.qHeads * c.headDim, t)
                parts.append(Self.compare(name, gpu, ref.toArray(), tolerance: Self.tolerance(t)))
            }
            let zeroed = try counters.download(Int32.self, count: CUDAKernels.decodeSplitCounters(batch: batch, qHeads: c.qHeads),
                                               on: stream).allSatisfy { $0 == 0 }
            if !zeroed {
                parts.append(CUDAKernelCheckResult(kernel: name, maxAbsError: .nan, relError: .nan, tolerance: 0,
                                                   passed: false, note: "split counters not left at zero"))
            }
            rows.append(Self.merge(name, parts, note: note + (tensorCores
                ? ", CUDA-core and tensor-core kernels, merged by the merge kernel and in-kernel (twice)" : "")))
        }
        return rows
    }

    // MARK: - Logits

    func checkBitmask(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let rowsN = 4, vocab = 1000, words = (vocab + 31) / 32
        let (logits, values) = try upload(randoms(rowsN * vocab), t)
        let mask = (0..<(rowsN * words)).map { _ in Int32(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        let maskBuffer = try CUDADeviceBuffer(context: context, copying: mask)
        try kernels.applyBitmask(logits: logits.address, bitmask: maskBuffer.address, rows: rowsN, vocab: vocab, type: t,
                                 stream: stream)
        let gpu = try download(logits, rowsN * vocab, t)
        var ref = values
        for r in 0..<rowsN {
            for v in 0..<vocab where (UInt32(bitPattern: mask[r * words + v / 32]) >> UInt32(v % 32)) & 1 == 0 {
                ref[r * vocab + v] = -.infinity
            }
        }
        return [Self.compare("apply_bitmask_\(t.rawValue)", gpu, ref, tolerance: 0, note: "\(rowsN)×\(vocab)")]
    }

    func checkArgmax(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let rowsN = 6, vocab = 151_936
        var values = randoms(rowsN * vocab, scale: 3)
        // Row 1: a tie between two maxima in different blocks (the lower index must win); row 2: NaNs that must
        // never win; row 3: the maximum at the last index; row 4: all NaN (id 0).
        values[vocab + 70_000] = 50
        values[vocab + 12_345] = 50
        values[2 * vocab + 5] = .nan
        values[2 * vocab + 6] = 40
        values[4 * vocab - 1] = 60
        for v in 0..<vocab { values[4 * vocab + v] = .nan }
        let (logits, seen) = try upload(values, t)
        let ids = try CUDADeviceBuffer(context: context, byteCount: rowsN * 4)
        try ids.fill(word: 0xFFFF_FFFF, on: stream)
        let scratch = try CUDADeviceBuffer(context: context, byteCount: CUDAKernels.argmaxScratchBytes(rows: rowsN))
        try scratch.fill(word: 0, on: stream)
        // Twice: the first call must leave its scratch ready for the second.
        try kernels.argmax(logits: logits.address, outIds: ids.address, scratch: scratch.address, rows: rowsN, vocab: vocab,
                           type: t, stream: stream)
        try ids.fill(word: 0xFFFF_FFFF, on: stream)
        try kernels.argmax(logits: logits.address, outIds: ids.address, scratch: scratch.address, rows: rowsN, vocab: vocab,
                           type: t, stream: stream)
        let gpu = try ids.download(Int32.self, count: rowsN, on: stream)
        let ref = (0..<rowsN).map { r in Int32(Self.argmax(seen[(r * vocab)..<((r + 1) * vocab)])) }
        let wrong = zip(gpu, ref).filter { $0 != $1 }.count
        return [CUDAKernelCheckResult(kernel: "argmax_\(t.rawValue)", maxAbsError: Double(wrong), relError: Double(wrong),
                                      tolerance: 0, passed: wrong == 0, note: "\(rowsN)×\(vocab), ties and NaN; ids \(gpu)")]
    }

    /// Index of the largest non-NaN value (lowest index on ties).
    static func argmax(_ xs: ArraySlice<Float>) -> Int {
        var best = -Float.infinity, index = -1
        for (i, x) in zip(0..., xs) where !x.isNaN && (index < 0 || x > best) {
            best = x
            index = i
        }
        return max(index, 0)
    }

    // MARK: - Sampling

    /// The probabilities SGLang's sampler draws from (sort, top-k, top-p on the cumulative mass, min-p), in double.
    static func referenceDistribution(_ logits: [Float], temperature: Double, topK: Int, topP: Double, minP: Double)
        -> [Double]
    {
        let mx = Double(logits.max() ?? 0)
        var p = logits.map { exp((Double($0) - mx) / temperature) }
        let z = p.reduce(0, +)
        p = p.map { $0 / z }
        let order = p.indices.sorted { p[$0] > p[$1] }
        var keep = [Bool](repeating: false, count: p.count)
        var before = 0.0
        for (rank, i) in order.enumerated() {
            let inK = topK <= 0 || rank < topK
            let inP = before <= topP
            let inMin = p[i] >= minP * p[order[0]]
            keep[i] = inK && inP && inMin
            before += p[i]
        }
        let kept = zip(p, keep).map { $1 ? $0 : 0 }
        let total = kept.reduce(0, +)
        return kept.map { $0 / total }
    }

    func checkSampling() throws -> [CUDAKernelCheckResult] {
        var rows: [CUDAKernelCheckResult] = []
        // 3001 tokens take the kernel's scalar loads (not a multiple of four) in one block; split, 50,257 (GPT-2's
        // vocabulary) leaves the last slice a ragged end; 151,936 (Qwen's) in one block makes the draw walk its
        // chosen chunk in more than one step.
        for (vocab, samples) in [(3001, 8192), (50_257, 2048), (151_936, 1024)] {
            rows += try checkSampling(vocab: vocab, samples: samples)
        }
        return rows
    }

    func checkSampling(vocab: Int, samples: Int) throws -> [CUDAKernelCheckResult] {
        // Logits with a few dominant tokens so the filters matter.
        var base = randoms(vocab, scale: 1.5)
        for i in 0..<12 { base[rng.below(vocab)] += 4 + Float(i) * 0.3 }
        var rows: [CUDAKernelCheckResult] = []
        let settings: [(String, Float, Int32, Float, Float)] = [
            ("T=0.8", 0.8, 0, 1, 0), ("T=1 top_k=20", 1, 20, 1, 0), ("T=0.7 top_p=0.9", 0.7, 0, 0.9, 0),
            ("T=1.2 k=50 p=0.95 min_p=0.02", 1.2, 50, 0.95, 0.02),
        ]
        // One block a row over `samples` rows in one launch, and each row split over the most blocks the launcher
        // allows for two rows, launched again and again with advancing offsets.
        let splitSlices = CUDAKernels.sampleSlices(rows: 2, vocab: vocab, multiprocessors: context.device.multiprocessors)
        let scratch = try CUDADeviceBuffer(context: context, byteCount: CUDAKernels.sampleScratchBytes(rows: 2))
        try scratch.fill(word: 0, on: stream)
        for (name, temperature, topK, topP, minP) in settings {
            let seedValue = rng.next()
            for slices in (splitSlices > 1 ? [1, splitSlices] : [1]) {
                let rowsPerLaunch = slices == 1 ? samples : 2
                let logits = try CUDADeviceBuffer(context: context, byteCount: rowsPerLaunch * vocab * 4)
                let pristine = try CUDADeviceBuffer(context: context, copying: (0..<rowsPerLaunch).flatMap { _ in base })
                let temps = try CUDADeviceBuffer(context: context, copying: [Float](repeating: temperature, count: rowsPerLaunch))
                let ks = try CUDADeviceBuffer(context: context, copying: [Int32](repeating: topK, count: rowsPerLaunch))
                let ps = try CUDADeviceBuffer(context: context, copying: [Float](repeating: topP, count: rowsPerLaunch))
                let mins = try CUDADeviceBuffer(context: context, copying: [Float](repeating: minP, count: rowsPerLaunch))
                let seeds = try CUDADeviceBuffer(context: context, copying: [UInt64](repeating: seedValue, count: rowsPerLaunch))
                let ids = try CUDADeviceBuffer(context: context, byteCount: samples * 4)
                try ids.fill(word: 0xFFFF_FFFF, on: stream)
                var first = 0
                while first < samples {
                    try logits.copy(from: pristine, bytes: rowsPerLaunch * vocab * 4, on: stream)
                    let offsets = try CUDADeviceBuffer(context: context, copying: (0..<rowsPerLaunch).map { UInt64(first + $0) })
                    try kernels.sample(logits: logits.address, temperature: temps.address, topK: ks.address, topP: ps.address,
                                       minP: mins.address, seeds: seeds.address, offsets: offsets.address,
                                       outIds: ids.address + CUdeviceptr(first * 4), scratch: scratch.address,
                                       rows: rowsPerLaunch, vocab: vocab, slices: slices, stream: stream)
                    try stream.synchronize()  // `offsets` is freed at the end of the iteration
                    first += rowsPerLaunch
                }
                let drawn = try ids.download(Int32.self, count: samples, on: stream)
                rows.append(Self.samplingResult(
                    "sample V=\(vocab) \(name)" + (slices > 1 ? " split \(slices)" : ""), drawn: drawn,
                    expected: Self.referenceDistribution(base, temperature: Double(temperature), topK: Int(topK),
                                                         topP: Double(topP), minP: Double(minP))))
            }
        }
        // Greedy rows (temperature 0) must equal argmax; a reproducibility check: same seed and offset, same token,
        // one block a row or split.
        let temps = try CUDADeviceBuffer(context: context, copying: [Float(0), 1])
        let ks = try CUDADeviceBuffer(context: context, copying: [Int32(0), 0])
        let ps = try CUDADeviceBuffer(context: context, copying: [Float(1), 0.9])
        let mins = try CUDADeviceBuffer(context: context, copying: [Float(0), 0])
        let seeds = try CUDADeviceBuffer(context: context, copying: [UInt64(7), 7])
        let offsets = try CUDADeviceBuffer(context: context, copying: [UInt64(3), 3])
        for slices in (splitSlices > 1 ? [1, splitSlices] : [1]) {
            var outs: [[Int32]] = []
            for _ in 0..<3 {
                // Fresh logits each time: a sampled row's logits are overwritten with its probabilities.
                let logits = try CUDADeviceBuffer(context: context, copying: base + base)
                let ids = try CUDADeviceBuffer(context: context, byteCount: 8)
                try ids.fill(word: 0xFFFF_FFFF, on: stream)
                try kernels.sample(logits: logits.address, temperature: temps.address, topK: ks.address, topP: ps.address,
                                   minP: mins.address, seeds: seeds.address, offsets: offsets.address, outIds: ids.address,
                                   scratch: scratch.address, rows: 2, vocab: vocab, slices: slices, stream: stream)
                outs.append(try ids.download(Int32.self, count: 2, on: stream))
            }
            let greedyOK = outs[0][0] == Int32(Self.argmax(base[...]))
            let reproducible = outs.allSatisfy { $0 == outs[0] }
            rows.append(CUDAKernelCheckResult(
                kernel: "sample V=\(vocab) greedy+repro" + (slices > 1 ? " split \(slices)" : ""),
                maxAbsError: greedyOK ? 0 : 1, relError: reproducible ? 0 : 1, tolerance: 0,
                passed: greedyOK && reproducible, note: "T=0 row equals argmax; same (seed, offset) gives the same token"))
        }
        // The split sampler leaves its scratch zeroed for the next launch.
        let left = try scratch.download(UInt32.self, count: CUDAKernels.sampleScratchBytes(rows: 2) / 4, on: stream)
        let dirty = left.filter { $0 != 0 }.count
        rows.append(CUDAKernelCheckResult(
            kernel: "sample V=\(vocab) split scratch zeroed", maxAbsError: Double(dirty), relError: 0, tolerance: 0,
            passed: dirty == 0, note: "nonzero scratch words after the split launches"))
        return rows
    }

    /// The total-variation distance between `drawn` ids and `expected` (over the 30 most likely tokens, each its own
    /// bucket, and one bucket for the rest of the kept set; its sampling noise is about sqrt(buckets / samples) / 2,
    /// so the bound allows a wide margin); any id outside the kept set fails.
    static func samplingResult(_ name: String, drawn: [Int32], expected: [Double]) -> CUDAKernelCheckResult {
        let samples = drawn.count, vocab = expected.count
        var counts = [Double](repeating: 0, count: vocab)
        var outside = 0
        for id in drawn {
            guard id >= 0, Int(id) < vocab, expected[Int(id)] > 0 else {
                outside += 1
                continue
            }
            counts[Int(id)] += 1
        }
        let order = expected.indices.sorted { expected[$0] > expected[$1] }
        let support = expected.filter { $0 > 0 }.count
        let heads = Array(order.prefix(min(30, support)))
        var tvd = 0.0
        for i in heads { tvd += abs(counts[i] / Double(samples) - expected[i]) }
        let restObserved = (Double(samples - outside) - heads.map { counts[$0] }.reduce(0, +)) / Double(samples)
        let restExpected = 1 - heads.map { expected[$0] }.reduce(0, +)
        tvd = 0.5 * (tvd + abs(restObserved - restExpected))
        let bound = 1.5 * (Double(heads.count + 1) / Double(samples)).squareRoot() + 0.01
        return CUDAKernelCheckResult(
            kernel: name, maxAbsError: Double(outside), relError: tvd, tolerance: bound,
            passed: outside == 0 && tvd <= bound,
            note: "\(samples) draws over \(support) of \(vocab) tokens kept; err = tokens outside the kept set, rel = TVD")
    }

    // MARK: - GEMM and graphs

    func checkGEMM() throws -> [CUDAKernelCheckResult] {
        let blas = try CUBLASLt(context: context)
        var rows: [CUDAKernelCheckResult] = []
        for (m, n, k) in [(1, 1000, 2048), (33, 576, 1536), (64, 4096, 512)] {
            let (x, xValues) = try upload(randoms(m * k), .bfloat16)
            let (w, wValues) = try upload(randoms(n * k, scale: 0.05), .bfloat16)
            let ref = FloatBuffer(count: m * n)
            try cpu.linear(FloatBuffer(xValues), tokens: m, weight: WeightMatrix(rows: n, cols: k, values: wValues),
                           output: ref)
            for output in [CUBLASLt.DataType.bfloat16, .float32] {
                let t: CUDAElementType = output == .float32 ? .float32 : .bfloat16
                let y = try poisoned(m * n, t)
                try blas.matmul(x: x.address, w: w.address, y: y.address, m: m, n: n, k: k, input: .bfloat16,
                                output: output, stream: stream)
                let gpu = try download(y, m * n, t)
                rows.append(Self.compare("cublaslt_gemm bf16→\(t.rawValue)", gpu, ref.toArray(),
                                         tolerance: output == .float32 ? 1e-4 : 1e-2, note: "\(m)×\(n)×\(k)"))
            }
        }
        let before = blas.cachedShapes
        let (x, _) = try upload(randoms(64), .bfloat16)
        let (w, _) = try upload(randoms(64), .bfloat16)
        let y = try poisoned(1, .float32)
        try blas.matmul(x: x.address, w: w.address, y: y.address, m: 1, n: 1, k: 64, input: .bfloat16, output: .float32,
                        stream: stream)
        try blas.matmul(x: x.address, w: w.address, y: y.address, m: 1, n: 1, k: 64, input: .bfloat16, output: .float32,
                        stream: stream)
        try stream.synchronize()
        let added = blas.cachedShapes - before
        rows.append(CUDAKernelCheckResult(kernel: "cublaslt algo cache", maxAbsError: Double(abs(added - 1)), relError: 0,
                                          tolerance: 0, passed: added == 1, note: "two calls of one shape add one entry"))
        return rows
    }

    /// A captured graph replays its kernels on whatever the fixed input buffers hold at launch.
    func checkGraphReplay() throws -> [CUDAKernelCheckResult] {
        let tokens = 5, inner = 700
        let (gu, _) = try upload(randoms(tokens * 2 * inner), .float32)
        let out = try poisoned(tokens * inner, .float32)
        let graph = try stream.capture {
            try kernels.gatedActivation(gateUp: gu.address, out: out.address, tokens: tokens, inner: inner, activation: 0,
                                        type: .float32, stream: stream)
        }
        var rows: [CUDAKernelCheckResult] = []
        for replay in 0..<2 {
            let values = randoms(tokens * 2 * inner)
            try gu.upload(values, on: stream)
            try out.fill(word: Self.poison, on: stream)
            try graph.launch(on: stream)
            let gpu = try download(out, tokens * inner, .float32)
            let ref = FloatBuffer(count: tokens * inner)
            cpu.gatedActivation(FloatBuffer(values), tokens: tokens, inner: inner, activation: .silu, output: ref)
            rows.append(Self.compare("graph_replay #\(replay + 1)", gpu, ref.toArray(), tolerance: 1e-5,
                                     note: "captured silu-mul on new inputs"))
        }
        return rows
    }
}

extension CUDAKernelCheck {
    /// One extend-attention case: requests as (cached prefix, new tokens).
    struct ExtendCase {
        var name: String
        var qHeads: Int, kvHeads: Int, headDim: Int
        var requests: [(prefix: Int, extend: Int)]
        var softcap: Float? = nil
        var window: Int? = nil
    }

    /// Shapes of the extend-attention check: prefill from nothing, chunked extends over a cached prefix (tiles
    /// that straddle the prefix boundary, lengths off the 64-token tile), several requests of different lengths
    /// in one launch (one of a single token), GQA 4:1, 7:1 and 1:1, soft-capping and sliding windows (a window
    /// shorter than the prefix, so whole prefix tiles are skipped), head sizes 64, 128 and 256.
    static let extendCases: [ExtendCase] = [
        ExtendCase(name: "prefill", qHeads: 16, kvHeads: 4, headDim: 128, requests: [(0, 150)]),
        ExtendCase(name: "chunked", qHeads: 8, kvHeads: 8, headDim: 64, requests: [(0, 70), (200, 33), (517, 129)]),
        ExtendCase(name: "mixed", qHeads: 16, kvHeads: 4, headDim: 128,
                   requests: [(64, 64), (0, 1), (300, 1), (9, 200), (128, 17)]),
        ExtendCase(name: "gqa7", qHeads: 28, kvHeads: 4, headDim: 128, requests: [(31, 97), (0, 65)]),
        ExtendCase(name: "cap+window", qHeads: 8, kvHeads: 2, headDim: 256, requests: [(0, 90), (250, 70)],
                   softcap: 50, window: 100),
        ExtendCase(name: "window", qHeads: 9, kvHeads: 3, headDim: 64, requests: [(400, 130), (5, 40)], window: 33),
        ExtendCase(name: "tiny16", qHeads: 4, kvHeads: 2, headDim: 16, requests: [(0, 40), (20, 13)]),
        ExtendCase(name: "tiny32", qHeads: 4, kvHeads: 1, headDim: 32, requests: [(7, 70), (0, 1)], window: 4),
    ]

    func checkExtendAttention(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        var rows: [CUDAKernelCheckResult] = []
        for c in Self.extendCases {
            let batch = c.requests.count
            let prefixLens = c.requests.map(\.prefix), extendLens = c.requests.map(\.extend)
            let seqLens = zip(prefixLens, extendLens).map { $0 + $1 }
            let tokens = extendLens.reduce(0, +)
            let maxContext = (seqLens.max() ?? 1) + 16
            let layout = QKVLayout(qHeads: c.qHeads, kvHeads: c.kvHeads, headDim: c.headDim)
            // Slots in shuffled order, so a request's keys are scattered over the pool (paged).
            let slotCount = seqLens.reduce(0, +) + 1
            var slotPool = Array(1..<Int32(slotCount))
            slotPool.shuffle(using: &rng)
            let reqToToken = ReqToTokenPool(maxRequests: batch + 3, maxContext: maxContext)
            let rowsOfRequests = (0..<batch).map { Int32(batch + 2 - $0) }  // not the identity
            var used = 0
            for i in 0..<batch {
                try reqToToken.write(row: Int(rowsOfRequests[i]), start: 0, slots: Array(slotPool[used..<(used + seqLens[i])]))
                used += seqLens[i]
            }
            let stride = c.kvHeads * c.headDim
            let (kc, kValues) = try upload(randoms(slotCount * stride), t)
            let (vc, vValues) = try upload(randoms(slotCount * stride), t)
            let (qkv, qkvValues) = try upload(randoms(tokens * layout.width), t)
            let pool = TokenToKVPool(size: slotCount, layerCount: 1, kvHeads: c.kvHeads, headDim: c.headDim)
            _ = pool.keys[0].buffer.update(fromContentsOf: kValues)
            _ = pool.values[0].buffer.update(fromContentsOf: vValues)
            let forward = ForwardBatch(
                requests: rowsOfRequests, prefixLens: prefixLens,
                newTokens: extendLens.map { [Int32](repeating: 0, count: $0) },
                slots: (0..<batch).flatMap { i in
                    (prefixLens[i]..<seqLens[i]).map { reqToToken.slot(row: Int(rowsOfRequests[i]), position: $0) }
                })
            let table = try CUDADeviceBuffer(context: context, copying: Array(UnsafeBufferPointer(
                start: reqToToken.table, count: reqToToken.maxRequests * maxContext)))
            let rowsBuffer = try CUDADeviceBuffer(context: context, copying: rowsOfRequests)
            let prefixBuffer = try CUDADeviceBuffer(context: context, copying: prefixLens.map(Int32.init))
            let extendBuffer = try CUDADeviceBuffer(context: context, copying: extendLens.map(Int32.init))
            let startBuffer = try CUDADeviceBuffer(context: context, copying: forward.extendStartLoc.map(Int32.init))
            let outWidth = c.qHeads * c.headDim
            let out = try poisoned(tokens * outWidth, t)
            let scale = 1 / Float(c.headDim).squareRoot()
            try kernels.extendAttention(
                q: qkv.address, qStride: layout.width, kCache: kc.address, vCache: vc.address, out: out.address,
                outStride: outWidth, reqToToken: table.address, reqToTokenStride: maxContext,
                reqPoolIndices: rowsBuffer.address, prefixLens: prefixBuffer.address, extendLens: extendBuffer.address,
                extendStarts: startBuffer.address, batch: batch, maxExtend: extendLens.max() ?? 1, qHeads: c.qHeads,
                kvHeads: c.kvHeads, headDim: c.headDim, scale: scale, softcap: c.softcap, window: c.window, type: t,
                stream: stream)
            let gpu = try download(out, tokens * outWidth, t)

            let ref = FloatBuffer(count: tokens * outWidth)
            cpu.attention(FloatBuffer(qkvValues), layout: layout, batch: forward, reqToToken: reqToToken, kvPool: pool,
                          layer: 0, parameters: AttentionParameters(scale: scale, softcap: c.softcap, slidingWindow: c.window),
                          output: ref)
            var note = "\(c.name): \(c.qHeads)/\(c.kvHeads)h d\(c.headDim) (prefix, new) "
                + c.requests.map { "(\($0.prefix), \($0.extend))" }.joined(separator: " ")
            if let s = c.softcap { note += " cap \(Int(s))" }
            if let w = c.window { note += " win \(w)" }
            rows.append(Self.compare("extend_attention_\(t.rawValue) \(c.name) hd\(c.headDim)", gpu, ref.toArray(),
                                     tolerance: Self.tolerance(t), note: note))
        }
        return rows
    }
}

/// SplitMix64 with a Box–Muller normal, seeded per run and printed so a failure can be replayed.
struct CheckRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
