import CCUDA
import Compute
import Foundation

/// Checks of the model-forward helper kernels (`model_aux.cu`) against the CPU backend or exact math.
extension CUDAKernelCheck {
    func checkAddBias(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let rows = 5, cols = 1000
        let (x, xv) = try upload(randoms(rows * cols), t)
        let (b, bv) = try upload(randoms(cols), t)
        try kernels.addBias(x.address, bias: b.address, rows: rows, cols: cols, type: t, stream: stream)
        let expected = (0..<(rows * cols)).map { xv[$0] + bv[$0 % cols] }
        return [Self.compare("add_bias_\(t.rawValue)", try download(x, rows * cols, t), expected,
                             tolerance: Self.tolerance(t), note: "\(rows)×\(cols)")]
    }

    func checkHeadRMSNorm(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let layout = QKVLayout(qHeads: 8, kvHeads: 2, headDim: 128)
        let tokens = 6
        let (qkv, values) = try upload(randoms(tokens * layout.width, scale: 3), t)
        let (qw, qwv) = try upload(randoms(layout.headDim), t)
        let (kw, kwv) = try upload(randoms(layout.headDim), t)
        let eps: Float = 1e-6
        try kernels.headRMSNorm(qkv.address, weight: qw.address, tokens: tokens, heads: layout.qHeads,
                                headDim: layout.headDim, stride: layout.width, offset: 0, eps: eps, type: t, stream: stream)
        try kernels.headRMSNorm(qkv.address, weight: kw.address, tokens: tokens, heads: layout.kvHeads,
                                headDim: layout.headDim, stride: layout.width, offset: layout.kOffset, eps: eps, type: t,
                                stream: stream)
        let ref = FloatBuffer(values)
        cpu.qkNorm(ref, tokens: tokens, layout: layout, qWeight: FloatBuffer(qwv), kWeight: FloatBuffer(kwv), eps: eps)
        // The values (v heads) must come through untouched, so the whole row is compared.
        return [Self.compare("head_rmsnorm_\(t.rawValue)", try download(qkv, tokens * layout.width, t), ref.toArray(),
                             tolerance: Self.tolerance(t), note: "q/k heads of \(tokens)×\(layout.width)")]
    }

    func checkSoftcap() throws -> [CUDAKernelCheckResult] {
        let n = 4099, cap: Float = 30
        let values = randoms(n, scale: 60)
        let x = try CUDADeviceBuffer(context: context, copying: values)
        try kernels.softcap(x.address, count: n, cap: cap, stream: stream)
        let ref = FloatBuffer(values)
        cpu.softcap(ref, count: n, cap: cap)
        return [Self.compare("softcap_f32", try download(x, n, .float32), ref.toArray(), tolerance: 1e-6, note: "\(n) values")]
    }

    func checkRecordSlots() throws -> [CUDAKernelCheckResult] {
        let rowsCount = 4, stride = 64, tokens = 40
        var table = [Int32](repeating: -7, count: rowsCount * stride)
        let device = try CUDADeviceBuffer(context: context, copying: table)
        var tokenRows: [Int32] = [], positions: [Int32] = [], outLoc: [Int32] = []
        for t in 0..<tokens {
            tokenRows.append(Int32(t % rowsCount))
            positions.append(Int32(t / rowsCount + 3))
            // Every fifth token is padding (slot -1): nothing may be written for it.
            outLoc.append(t % 5 == 4 ? -1 : Int32(100 + t))
        }
        let r = try CUDADeviceBuffer(context: context, copying: tokenRows)
        let p = try CUDADeviceBuffer(context: context, copying: positions)
        let l = try CUDADeviceBuffer(context: context, copying: outLoc)
        try kernels.recordSlots(reqToToken: device.address, stride: stride, tokenRows: r.address, positions: p.address,
                                outLoc: l.address, tokens: tokens, stream: stream)
        for t in 0..<tokens where outLoc[t] >= 0 { table[Int(tokenRows[t]) * stride + Int(positions[t])] = outLoc[t] }
        let gpu = try device.download(Int32.self, count: table.count, on: stream)
        let wrong = zip(gpu, table).filter { $0 != $1 }.count
        return [CUDAKernelCheckResult(kernel: "record_slots", maxAbsError: Double(wrong), relError: 0, tolerance: 0,
                                      passed: wrong == 0, note: "\(tokens) tokens, padding skipped; \(wrong) entries differ")]
    }

    func checkTakeCarried() throws -> [CUDAKernelCheckResult] {
        let count = 300, previousCount = 200
        var ids = (0..<count).map { Int32(50_000 + $0) }
        // Rows carry from a scrambled previous row, keep their own id (-1), or name a row past the previous step's.
        let carried = (0..<count).map { i -> Int32 in i % 3 == 0 ? -1 : (i % 7 == 0 ? Int32(previousCount + i) : Int32((i * 37) % previousCount)) }
        let previous = (0..<previousCount).map { Int32(1_000 + 3 * $0) }
        let inputs = try CUDADeviceBuffer(context: context, copying: ids)
        let c = try CUDADeviceBuffer(context: context, copying: carried)
        let prev = try CUDADeviceBuffer(context: context, copying: previous)
        try kernels.takeCarried(inputIds: inputs.address, carried: c.address, previousIds: prev.address, count: count,
                                previousCount: previousCount, stream: stream)
        for i in 0..<count where carried[i] >= 0 && Int(carried[i]) < previousCount { ids[i] = previous[Int(carried[i])] }
        let gpu = try inputs.download(Int32.self, count: count, on: stream)
        let wrong = zip(gpu, ids).filter { $0 != $1 }.count
        return [CUDAKernelCheckResult(kernel: "take_carried", maxAbsError: Double(wrong), relError: 0, tolerance: 0,
                                      passed: wrong == 0, note: "\(count) ids, out-of-range rows kept; \(wrong) differ")]
    }

    func checkFillUniform(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let n = 1 << 16
        let a = try poisoned(n, t), b = try poisoned(n, t)
        try kernels.fillUniform(a.address, count: n, seed: 11, low: -0.5, high: 1.5, type: t, stream: stream)
        try kernels.fillUniform(b.address, count: n, seed: 11, low: -0.5, high: 1.5, type: t, stream: stream)
        let x = try download(a, n, t), y = try download(b, n, t)
        let inRange = x.allSatisfy { $0 >= -0.5 && $0 <= 1.5 }
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        // Uniform on [-0.5, 1.5): mean 0.5, standard error of the mean ≈ 0.577 / sqrt(n) ≈ 0.0023.
        let ok = inRange && x == y && abs(mean - 0.5) < 0.02
        return [CUDAKernelCheckResult(kernel: "fill_uniform_\(t.rawValue)", maxAbsError: abs(mean - 0.5), relError: 0,
                                      tolerance: 0.02, passed: ok,
                                      note: "mean \(mean), in range: \(inRange), reproducible: \(x == y)")]
    }
}

extension CUDAKernelCheck {
    /// The skinny GEMM against the CPU backend's linear (with and without bias), every row count it serves,
    /// a `k` that is not a multiple of its unrolled step, fp32 and bf16 in, bf16 and fp32 out.
    func checkGEMV() throws -> [CUDAKernelCheckResult] {
        var rows: [CUDAKernelCheckResult] = []
        for (m, n, k) in [(1, 1000, 2048), (3, 333, 1560), (4, 129, 64)] {
            for t in CUDAElementType.allCases {
                let (x, xValues) = try upload(randoms(m * k), t)
                let (w, wValues) = try upload(randoms(n * k, scale: 0.05), t)
                let (b, bValues) = try upload(randoms(n), t)
                for withBias in [false, true] {
                    let ref = FloatBuffer(count: m * n)
                    try cpu.linear(FloatBuffer(xValues), tokens: m,
                                   weight: WeightMatrix(rows: n, cols: k, values: wValues,
                                                        bias: withBias ? bValues : nil),
                                   output: ref)
                    for outputFloat32 in t == .float32 ? [true] : [false, true] {
                        let outType: CUDAElementType = outputFloat32 ? .float32 : t
                        let name = "gemv \(t.rawValue)→\(outType.rawValue)\(withBias ? "+bias" : "")"
                        var parts: [CUDAKernelCheckResult] = []
                        for split in [1, 2, 4, 8] {
                            let y = try poisoned(m * n, outType)
                            try kernels.gemv(x: x.address, w: w.address, y: y.address, bias: withBias ? b.address : nil,
                                             rows: m, n: n, k: k, type: t, outputFloat32: outputFloat32, split: split,
                                             stream: stream)
                            parts.append(Self.compare(name, try download(y, m * n, outType), ref.toArray(),
                                                      tolerance: outType == .float32 ? 1e-5 : 1e-2))
                        }
                        rows.append(Self.merge(name, parts, note: "\(m)×\(n)×\(k), 1/2/4/8 warps per column"))
                    }
                }
            }
        }
        return rows
    }
}

extension CUDAKernelCheck {
    /// `sgl_gemv_norm_bf16` against the CPU: the residual sum rounded to bf16 (exact), the norm of the CPU backend
    /// rounded to bf16 (the GEMM's input), then the CPU GEMM; Llama and Gemma norms, with and without a delta and a
    /// bias, 1/2/4 warps per column; and gated (`act(gate) · up` of the output's halves, SiLU and GELU-tanh).
    func checkGEMVNorm() throws -> [CUDAKernelCheckResult] {
        var rows: [CUDAKernelCheckResult] = []
        // 4600 columns: more column groups than an H100/H200 holds resident blocks, so the persistent grid loops.
        for (n, k, addOne, withDelta, withBias) in [(4600, 2048, false, true, false), (334, 1560, true, true, true),
                                                    (778, 576, false, false, true)] {
            let t = CUDAElementType.bfloat16
            let (res, resValues) = try upload(randoms(k), t)
            let (delta, deltaValues) = try upload(randoms(k), t)
            let (nw, nwValues) = try upload(randoms(k, scale: 0.5).map { $0 + (addOne ? 0 : 1) }, t)
            let (w, wValues) = try upload(randoms(n * k, scale: 0.05), t)
            let (b, bValues) = try upload(randoms(n), t)
            var sum = withDelta ? zip(resValues, deltaValues).map { $0 + $1 } : resValues
            sum = sum.map(BFloat16Conversion.round)
            let normed = FloatBuffer(count: k)
            cpu.rmsNorm(FloatBuffer(sum), rows: 1, dim: k, weight: FloatBuffer(nwValues), eps: 1e-6, addOne: addOne,
                        output: normed)
            let ref = FloatBuffer(count: n)
            try cpu.linear(FloatBuffer(normed.toArray().map(BFloat16Conversion.round)), tokens: 1,
                           weight: WeightMatrix(rows: n, cols: k, values: wValues, bias: withBias ? bValues : nil), output: ref)
            let name = "gemv_norm_bf16" + (addOne ? " gemma" : "") + (withDelta ? "" : " (no add)") + (withBias ? "+bias" : "")
            var parts: [CUDAKernelCheckResult] = []
            for split in [1, 2, 4] {
                let out = try poisoned(k, t), y = try poisoned(n, t)
                try kernels.gemvNorm(residual: res.address, delta: withDelta ? delta.address : nil, residualOut: out.address,
                                     normWeight: nw.address, eps: 1e-6, addOne: addOne, w: w.address, y: y.address,
                                     bias: withBias ? b.address : nil, n: n, k: k, split: split, stream: stream)
                parts.append(Self.compare(name, try download(y, n, t), ref.toArray(), tolerance: 1e-2))
                parts.append(Self.compare(name, try download(out, k, t), sum, tolerance: 0, note: "residual"))
            }
            // Gated: the GEMM's outputs rounded as stored, the activation rounded before the product.
            let inner = n / 2, activation: Int32 = addOne ? 1 : 0
            let round = BFloat16Conversion.round
            let yRef = ref.toArray()
            let gatedRef = (0..<inner).map { i -> Float in
                let g = Double(round(yRef[i])), u = round(yRef[inner + i])
                let cube: Double = 0.044715 * g * g * g
                let a: Double = activation == 1 ? 0.5 * g * (1 + Foundation.tanh(0.7978845608028654 * (g + cube)))
                    : g / (1 + Foundation.exp(-g))
                return round(Float(a)) * u
            }
            for split in [1, 2, 4] {
                let out = try poisoned(k, t), act = try poisoned(inner, t)
                try kernels.gemvNorm(residual: res.address, delta: withDelta ? delta.address : nil, residualOut: out.address,
                                     normWeight: nw.address, eps: 1e-6, addOne: addOne, w: w.address, y: 0,
                                     bias: withBias ? b.address : nil, n: n, k: k, activated: act.address,
                                     activation: activation, split: split, stream: stream)
                parts.append(Self.compare(name, try download(act, inner, t), gatedRef, tolerance: 1e-2, note: "gated"))
            }
            rows.append(Self.merge(name, parts, note: "1×\(n)×\(k), 1/2/4 warps per column, plain and gated"))
        }
        rows.append(try checkGEMVNormRope())
        return rows
    }

    /// The fused QKV flavour: `sgl_gemv_norm_bf16` with RoPE and the K/V store, against the CPU norm and GEMM, then
    /// rotate-half on the host (fp32 angles, as `sgl_rope_store_kv`), with a bias (Qwen2) and 1/2/4 warps per column.
    func checkGEMVNormRope() throws -> CUDAKernelCheckResult {
        let t = CUDAElementType.bfloat16
        // 640+ column groups at one warp per column: the persistent grid loops on a 132-SM GPU.
        let qHeads = 48, kvHeads = 16, hd = 64, k = 512, slot = 3, position: Int32 = 37, slots = 5
        let n = (qHeads + 2 * kvHeads) * hd, half = hd / 2, kvWidth = kvHeads * hd
        let (res, resValues) = try upload(randoms(k), t)
        let (delta, deltaValues) = try upload(randoms(k), t)
        let (nw, nwValues) = try upload(randoms(k, scale: 0.5).map { $0 + 1 }, t)
        let (w, wValues) = try upload(randoms(n * k, scale: 0.05), t)
        let (b, bValues) = try upload(randoms(n), t)
        let inverse = (0..<half).map { Float(pow(10000.0, -2.0 * Double($0) / Double(hd))) }
        let invBuffer = try CUDADeviceBuffer(context: context, copying: inverse)
        let positions = try CUDADeviceBuffer(context: context, copying: [position])
        let outLoc = try CUDADeviceBuffer(context: context, copying: [Int32(slot)])
        let factor: Float = 1.1
        let sum = zip(resValues, deltaValues).map { BFloat16Conversion.round($0 + $1) }
        let normed = FloatBuffer(count: k)
        cpu.rmsNorm(FloatBuffer(sum), rows: 1, dim: k, weight: FloatBuffer(nwValues), eps: 1e-6, addOne: false,
                    output: normed)
        let ref = FloatBuffer(count: n)
        try cpu.linear(FloatBuffer(normed.toArray().map(BFloat16Conversion.round)), tokens: 1,
                       weight: WeightMatrix(rows: n, cols: k, values: wValues, bias: bValues), output: ref)
        var y = ref.toArray().map(BFloat16Conversion.round)
        for head in 0..<(qHeads + kvHeads) {
            for i in 0..<half {
                let angle = inverse[i] * Float(position)
                let c = Float(Foundation.cos(Double(angle))) * factor, sn = Float(Foundation.sin(Double(angle))) * factor
                let a = y[head * hd + i], bb = y[head * hd + i + half]
                y[head * hd + i] = BFloat16Conversion.round(a * c - bb * sn)
                y[head * hd + i + half] = BFloat16Conversion.round(bb * c + a * sn)
            }
        }
        let keys = Array(y[(qHeads * hd)..<((qHeads + kvHeads) * hd)]), values = Array(y[((qHeads + kvHeads) * hd)...])
        var parts: [CUDAKernelCheckResult] = []
        for split in [1, 2, 4] {
            let out = try poisoned(k, t), qkv = try poisoned(n, t)
            let kc = try poisoned(slots * kvWidth, t), vc = try poisoned(slots * kvWidth, t)
            let rope = CUDAKernels.GemvRope(
                positions: positions.address, outLoc: outLoc.address, inverseFrequencies: invBuffer.address,
                kCache: kc.address, vCache: vc.address, qHeads: qHeads, kvHeads: kvHeads, headDim: hd, attentionFactor: factor)
            try kernels.gemvNorm(residual: res.address, delta: delta.address, residualOut: out.address, normWeight: nw.address,
                                 eps: 1e-6, addOne: false, w: w.address, y: qkv.address, bias: b.address, n: n, k: k,
                                 rope: rope, split: split, stream: stream)
            let name = "gemv_norm_bf16 rope+kv"
            parts.append(Self.compare(name, try download(qkv, n, t), y, tolerance: 1e-2, note: "q, k rotated, v"))
            let kRow = Array(try download(kc, slots * kvWidth, t)[(slot * kvWidth)..<((slot + 1) * kvWidth)])
            let vRow = Array(try download(vc, slots * kvWidth, t)[(slot * kvWidth)..<((slot + 1) * kvWidth)])
            parts.append(Self.compare(name, kRow, keys, tolerance: 1e-2, note: "k cache"))
            parts.append(Self.compare(name, vRow, values, tolerance: 1e-2, note: "v cache"))
            parts.append(Self.compare(name, try download(out, k, t), sum, tolerance: 0, note: "residual"))
        }
        return Self.merge("gemv_norm_bf16 rope+kv", parts,
                          note: "\(qHeads)/\(kvHeads) heads × \(hd), k \(k), bias, slot \(slot), 1/2/4 warps per column")
    }
}
