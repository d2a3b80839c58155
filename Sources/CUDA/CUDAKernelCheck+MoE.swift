import CCUDA
import Compute
import Foundation

/// Checks of the mixture-of-experts kernels (`moe.cu`) against routing, grouping and products computed here.
extension CUDAKernelCheck {
    /// Routing (both normalizations) and grouping: ids, slots and offsets exact, weights to fp32 rounding.
    func checkMoERouting() throws -> [CUDAKernelCheckResult] {
        let tokens = 37, experts = 10, topK = 3, stride = experts + 1
        var logits = randoms(tokens * stride, scale: 2)
        // Exact ties must go to the lower expert, as torch.topk does.
        logits[2 * stride + 4] = logits[2 * stride + 7]
        let device = try CUDADeviceBuffer(context: context, copying: logits)
        var rows: [CUDAKernelCheckResult] = []
        for normalize in [false, true] {
            let ids = try poisoned(tokens * topK, .float32), weights = try poisoned(tokens * topK, .float32)
            try kernels.moeRoute(logits: device.address, stride: stride, topkIds: ids.address, topkWeights: weights.address,
                                 tokens: tokens, experts: experts, topK: topK, normalize: normalize, stream: stream)
            var wantIds: [Int32] = [], wantWeights: [Float] = []
            for t in 0..<tokens {
                let row = Array(logits[(t * stride)..<(t * stride + experts)])
                let m = row.max() ?? 0
                let e = row.map { expf($0 - m) }
                let sum = e.reduce(0, +)
                let probs = e.map { $0 / sum }
                let order = probs.indices.sorted { (a: Int, b: Int) -> Bool in
                    probs[a] != probs[b] ? probs[a] > probs[b] : a < b
                }
                let picked = Array(order.prefix(topK))
                let chosen = picked.reduce(Float(0)) { $0 + probs[$1] }
                wantIds += picked.map { Int32($0) }
                wantWeights += picked.map { normalize ? probs[$0] / chosen : probs[$0] }
            }
            let gotIds = try ids.download(Int32.self, count: tokens * topK, on: stream)
            let wrong = zip(gotIds, wantIds).filter { $0 != $1 }.count
            var result = Self.compare("moe_route\(normalize ? " normalized" : "")",
                                      try download(weights, tokens * topK, .float32), wantWeights, tolerance: 1e-5,
                                      note: "\(tokens) tokens, \(experts) experts, top \(topK); \(wrong) ids differ")
            if wrong > 0 { result = CUDAKernelCheckResult(kernel: result.kernel, maxAbsError: result.maxAbsError,
                                                          relError: result.relError, tolerance: result.tolerance,
                                                          passed: false, note: result.note) }
            rows.append(result)
            if normalize { rows.append(try checkMoEAlign(ids: ids, hostIds: wantIds, experts: experts, topK: topK)) }
        }
        return rows
    }

    private func checkMoEAlign(ids: CUDADeviceBuffer, hostIds: [Int32], experts: Int, topK: Int) throws
        -> CUDAKernelCheckResult
    {
        let pairs = hostIds.count
        let offsets = try poisoned(experts + 1, .float32), slotRows = try poisoned(pairs, .float32)
        let pairSlots = try poisoned(pairs, .float32)
        try kernels.moeAlign(topkIds: ids.address, offsets: offsets.address, slotRows: slotRows.address,
                             pairSlots: pairSlots.address, pairs: pairs, experts: experts, topK: topK, stream: stream)
        var wantOffsets: [Int32] = [0], wantRows = [Int32](repeating: -1, count: pairs)
        var wantSlots = [Int32](repeating: -1, count: pairs)
        var slot = 0
        for e in 0..<experts {
            for p in 0..<pairs where hostIds[p] == Int32(e) {
                wantRows[slot] = Int32(p / topK)
                wantSlots[p] = Int32(slot)
                slot += 1
            }
            wantOffsets.append(Int32(slot))
        }
        let got = (try offsets.download(Int32.self, count: experts + 1, on: stream),
                   try slotRows.download(Int32.self, count: pairs, on: stream),
                   try pairSlots.download(Int32.self, count: pairs, on: stream))
        let wrong = zip(got.0, wantOffsets).filter { $0 != $1 }.count + zip(got.1, wantRows).filter { $0 != $1 }.count
            + zip(got.2, wantSlots).filter { $0 != $1 }.count
        return CUDAKernelCheckResult(kernel: "moe_align", maxAbsError: Double(wrong), relError: 0, tolerance: 0,
                                     passed: wrong == 0,
                                     note: "\(pairs) pairs over \(experts) experts; \(wrong) offsets/rows/slots differ")
    }

    /// The grouped GEMM with gathered rows (gate-up) and with slot rows (down), and the weighted combine.
    func checkMoEGemmCombine(_ t: CUDAElementType) throws -> [CUDAKernelCheckResult] {
        let tokens = 23, experts = 6, topK = 2, h = 96, n = 72
        let pairs = tokens * topK
        // A fixed routing that leaves expert 4 empty and gives expert 1 more than eight slots.
        var ids: [Int32] = []
        for tk in 0..<tokens { ids += [Int32(tk % 2 == 0 ? 1 : [0, 2, 3, 5][tk % 4]), Int32([0, 2, 3, 5][(tk / 2) % 4])] }
        var offsets: [Int32] = [0], slotRows: [Int32] = [], pairSlots = [Int32](repeating: 0, count: pairs)
        for e in 0..<experts {
            for p in 0..<pairs where ids[p] == Int32(e) {
                pairSlots[p] = Int32(slotRows.count)
                slotRows.append(Int32(p / topK))
            }
            offsets.append(Int32(slotRows.count))
        }
        let offsetsBuffer = try CUDADeviceBuffer(context: context, copying: offsets)
        let slotRowsBuffer = try CUDADeviceBuffer(context: context, copying: slotRows)
        let (x, xv) = try upload(randoms(tokens * h), t)
        let (w, wv) = try upload(randoms(experts * n * h, scale: 0.1), t)
        let (xs, xsv) = try upload(randoms(pairs * n), t)
        let (w2, w2v) = try upload(randoms(experts * h * n, scale: 0.1), t)
        let y = try poisoned(pairs * n, t), y2 = try poisoned(pairs * h, t)
        try kernels.moeGemm(x: x.address, xRows: slotRowsBuffer.address, w: w.address, y: y.address,
                            offsets: offsetsBuffer.address, experts: experts, n: n, k: h, type: t, stream: stream)
        try kernels.moeGemm(x: xs.address, xRows: nil, w: w2.address, y: y2.address, offsets: offsetsBuffer.address,
                            experts: experts, n: h, k: n, type: t, stream: stream)
        var want = [Float](repeating: 0, count: pairs * n), want2 = [Float](repeating: 0, count: pairs * h)
        for e in 0..<experts {
            for s in Int(offsets[e])..<Int(offsets[e + 1]) {
                let row = Int(slotRows[s])
                for c in 0..<n {
                    var a: Float = 0
                    for k in 0..<h { a += xv[row * h + k] * wv[(e * n + c) * h + k] }
                    want[s * n + c] = a
                }
                for c in 0..<h {
                    var a: Float = 0
                    for k in 0..<n { a += xsv[s * n + k] * w2v[(e * h + c) * n + k] }
                    want2[s * h + c] = a
                }
            }
        }
        var rows = [
            Self.compare("moe_gemm_\(t.rawValue) gathered", try download(y, pairs * n, t), want,
                         tolerance: Self.tolerance(t), note: "\(pairs) slots over \(experts) experts, \(n)×\(h)"),
            Self.compare("moe_gemm_\(t.rawValue) slots", try download(y2, pairs * h, t), want2,
                         tolerance: Self.tolerance(t), note: "\(pairs) slots, \(h)×\(n)"),
        ]

        // Combine: routed outputs by pair weights, plus the sigmoid-gated shared expert read from a strided column.
        let gateStride = 5
        let topkWeights = (0..<pairs).map { _ in Float.random(in: 0..<1, using: &rng) }
        let gates = randoms(tokens * gateStride, scale: 2)
        let (expertOut, eov) = try upload(randoms(pairs * h), t)
        let (sharedOut, sov) = try upload(randoms(tokens * h), t)
        let weightsBuffer = try CUDADeviceBuffer(context: context, copying: topkWeights)
        let gatesBuffer = try CUDADeviceBuffer(context: context, copying: gates)
        let slotsBuffer = try CUDADeviceBuffer(context: context, copying: pairSlots)
        for shared in [false, true] {
            let out = try poisoned(tokens * h, t)
            try kernels.moeCombine(
                expertOut: expertOut.address, pairSlots: slotsBuffer.address, topkWeights: weightsBuffer.address,
                sharedOut: shared ? sharedOut.address : nil, sharedGate: shared ? gatesBuffer.address + 4 * 3 : nil,
                gateStride: gateStride, out: out.address, tokens: tokens, dim: h, topK: topK, type: t, stream: stream)
            var wantOut = [Float](repeating: 0, count: tokens * h)
            for tk in 0..<tokens {
                let g = 1 / (1 + expf(-gates[tk * gateStride + 3]))
                for c in 0..<h {
                    var a: Float = 0
                    for j in 0..<topK { a += topkWeights[tk * topK + j] * eov[Int(pairSlots[tk * topK + j]) * h + c] }
                    if shared { a += g * sov[tk * h + c] }
                    wantOut[tk * h + c] = a
                }
            }
            rows.append(Self.compare("moe_combine_\(t.rawValue)\(shared ? " +shared" : "")", try download(out, tokens * h, t),
                                     wantOut, tolerance: Self.tolerance(t), note: "\(tokens)×\(h), top \(topK)"))
        }
        return rows
    }
}
