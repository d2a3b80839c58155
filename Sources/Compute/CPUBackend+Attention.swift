import CQuantKernels
import COpenBLAS
import Foundation

extension CPUBackend {
    /// Requests extending by at least this many tokens use the blocked (GEMM) attention path.
    static let blockedAttentionMinTokens = 8
    /// Query tokens per block of the blocked path (bounds the score matrix).
    static let attentionQueryBlock = 128

    public func ropeAndStoreKV(_ qkv: FloatBuffer, layout: QKVLayout, batch: ForwardBatch,
                               rotary: RotaryEmbedding, kvPool: TokenToKVPool, layer: Int) {
        let hd = layout.headDim
        let half = rotary.inverseFrequencies.count
        let stride = kvPool.slotStride
        let kStore = kvPool.keys[layer].pointer, vStore = kvPool.values[layer].pointer
        rotary.inverseFrequencies.withUnsafeBufferPointer { inv in
            Parallel.forEachChunk(batch.tokenCount, minPerChunk: 8) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * max(half, 1)) { cs in
                    for t in range {
                        // Angles in float32 as transformers computes them (inv_freq · position).
                        let pos = Float(batch.positions[t])
                        for i in 0..<half {
                            let angle = inv[i] * pos
                            cs[i] = cosf(angle) * rotary.attentionFactor
                            cs[half + i] = sinf(angle) * rotary.attentionFactor
                        }
                        let row = qkv.pointer + t * layout.width
                        for h in 0..<(layout.qHeads + layout.kvHeads) {
                            let p = row + h * hd
                            for i in 0..<half {
                                let x1 = p[i], x2 = p[i + half]
                                p[i] = x1 * cs[i] - x2 * cs[half + i]
                                p[i + half] = x2 * cs[i] + x1 * cs[half + i]
                            }
                        }
                        let slot = Int(batch.outCacheLoc[t])
                        (kStore + slot * stride).update(from: row + layout.kOffset, count: stride)
                        (vStore + slot * stride).update(from: row + layout.vOffset, count: stride)
                    }
                }
            }
        }
    }

    public func attention(_ qkv: FloatBuffer, layout: QKVLayout, batch: ForwardBatch, reqToToken: ReqToTokenPool,
                          kvPool: TokenToKVPool, layer: Int, parameters: AttentionParameters, output: FloatBuffer) {
        let hd = layout.headDim
        let group = layout.qHeads / layout.kvHeads
        let stride = kvPool.slotStride
        let kStore = kvPool.keys[layer].pointer, vStore = kvPool.values[layer].pointer
        // Request of each token, so work items are independent.
        var requestOfToken = [Int](repeating: 0, count: batch.tokenCount)
        var t0 = 0
        for (i, n) in batch.extendLens.enumerated() {
            for t in t0..<(t0 + n) { requestOfToken[t] = i }
            t0 += n
        }
        // Long extends go through blocked GEMMs; short ones (decode) through the per-token loop below.
        var tokensForLoop: [Int] = []
        var blocked: [(request: Int, start: Int, count: Int)] = []
        let starts = batch.extendStartLoc
        for (i, n) in batch.extendLens.enumerated() {
            if n >= Self.blockedAttentionMinTokens {
                var b = 0
                while b < n {
                    let c = min(Self.attentionQueryBlock, n - b)
                    blocked.append((i, starts[i] + b, c))
                    b += c
                }
            } else {
                tokensForLoop.append(contentsOf: starts[i]..<(starts[i] + n))
            }
        }
        if !blocked.isEmpty {
            blockedAttention(qkv, layout: layout, batch: batch, blocks: blocked, reqToToken: reqToToken,
                             kvPool: kvPool, layer: layer, parameters: parameters, output: output)
        }
        guard !tokensForLoop.isEmpty else { return }
        let maxSeq = batch.seqLens.max() ?? 0
        // Few (token, KV head) pairs (small-batch decode) would leave cores idle: then each query head
        // of a group is its own work item.
        let splits = tokensForLoop.count * layout.kvHeads < 4 * Parallel.threadCount ? group : 1
        let headsPerItem = group / splits
        let items = tokensForLoop.count * layout.kvHeads * splits
        let scale = parameters.scale
        let cap = parameters.softcap
        requestOfToken.withUnsafeBufferPointer { reqOf in
          tokensForLoop.withUnsafeBufferPointer { loopTokens in
            Parallel.forEachChunk(items, minPerChunk: 2) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, maxSeq * group)) { scoreBuffer in
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, maxSeq)) { slots in
                        guard let scores = scoreBuffer.baseAddress else { return }
                        for item in range {
                            let pair = item / splits, g0 = (item % splits) * headsPerItem
                            let t = loopTokens[pair / layout.kvHeads], kvh = pair % layout.kvHeads
                            let r = reqOf[t]
                            let row = Int(batch.reqPoolIndices[r])
                            let pos = Int(batch.positions[t])
                            let lo = parameters.slidingWindow.map { max(0, pos - $0 + 1) } ?? 0
                            let n = pos - lo + 1
                            let table = reqToToken.table + row * reqToToken.maxContext + lo
                            for j in 0..<n { slots[j] = table[j] }
                            let q = qkv.pointer + t * layout.width + (kvh * group + g0) * hd
                            let o = output.pointer + t * layout.qHeads * hd + (kvh * group + g0) * hd
                            // Scores, softmax and the value sum of the query group in the C kernel (AVX2 + FMA
                            // where the CPU has it), reusing each key row for every head of the item.
                            cqk_attend(Self.attentionLevel, q, Int32(headsPerItem), kStore + kvh * hd,
                                       vStore + kvh * hd, slots.baseAddress, Int32(n), Int32(hd), stride, scale,
                                       cap ?? 0, scores, o)
                        }
                    }
                }
            }
          }
        }
    }
}

extension CPUBackend {
    /// The instruction-set level of the decode attention kernel.
    static let attentionLevel = QuantKernelLevel.best.rawValue

    /// Attention of a block of consecutive new tokens of one request, per KV head: gather the block's
    /// queries (all heads of the group) and the visible keys/values, then `S = QKᵀ`, mask + softmax,
    /// `O = PV` with single-threaded OpenBLAS calls, one (block, KV head) pair per worker.
    func blockedAttention(_ qkv: FloatBuffer, layout: QKVLayout, batch: ForwardBatch,
                          blocks: [(request: Int, start: Int, count: Int)], reqToToken: ReqToTokenPool,
                          kvPool: TokenToKVPool, layer: Int, parameters: AttentionParameters, output: FloatBuffer) {
        let hd = layout.headDim
        let group = layout.qHeads / layout.kvHeads
        let stride = kvPool.slotStride
        let kStore = kvPool.keys[layer].pointer, vStore = kvPool.values[layer].pointer
        let outWidth = layout.qHeads * hd
        let items = blocks.count * layout.kvHeads
        Parallel.forEachChunk(items, minPerChunk: 1) { range in
            for item in range {
                let block = blocks[item / layout.kvHeads], kvh = item % layout.kvHeads
                let row = Int(batch.reqPoolIndices[block.request])
                let firstPos = Int(batch.positions[block.start])
                let lastPos = Int(batch.positions[block.start + block.count - 1])
                let lo = parameters.slidingWindow.map { max(0, firstPos - $0 + 1) } ?? 0
                let nk = lastPos - lo + 1
                let nq = block.count * group
                let table = reqToToken.table + row * reqToToken.maxContext + lo
                let scratchCount = 2 * nq * hd + 2 * nk * hd + nq * nk
                withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                    guard let q = scratch.baseAddress else { return }
                    let k = q + nq * hd, v = k + nk * hd, scores = v + nk * hd, o = scores + nq * nk
                    // Query rows ordered (token, group head).
                    for i in 0..<block.count {
                        let src = qkv.pointer + (block.start + i) * layout.width + kvh * group * hd
                        (q + i * group * hd).update(from: src, count: group * hd)
                    }
                    for j in 0..<nk {
                        let slot = Int(table[j])
                        (k + j * hd).update(from: kStore + slot * stride + kvh * hd, count: hd)
                        (v + j * hd).update(from: vStore + slot * stride + kvh * hd, count: hd)
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(nq), Int32(nk), Int32(hd),
                                parameters.scale, q, Int32(hd), k, Int32(hd), 0, scores, Int32(nk))
                    for i in 0..<block.count {
                        let pos = Int(batch.positions[block.start + i])
                        // Visible keys: lo + j in [max(lo, pos - window + 1), pos].
                        let first = (parameters.slidingWindow.map { max(0, pos - $0 + 1) } ?? 0) - lo
                        let last = pos - lo
                        for g in 0..<group {
                            let srow = scores + (i * group + g) * nk
                            var m = -Float.infinity
                            if let cap = parameters.softcap {
                                for j in first...last { srow[j] = tanhf(srow[j] / cap) * cap }
                            }
                            for j in first...last { m = max(m, srow[j]) }
                            var sum: Float = 0
                            for j in first...last {
                                let e = expf(srow[j] - m)
                                srow[j] = e
                                sum += e
                            }
                            let inv = 1 / sum
                            for j in 0..<nk { srow[j] = (j >= first && j <= last) ? srow[j] * inv : 0 }
                        }
                    }
                    // O = P·V for the whole block, then copied into the output rows of this KV head's query heads.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(nq), Int32(hd), Int32(nk), 1,
                                scores, Int32(nk), v, Int32(hd), 0, o, Int32(hd))
                    for i in 0..<block.count {
                        let dst = output.pointer + (block.start + i) * outWidth + kvh * group * hd
                        dst.update(from: o + i * group * hd, count: group * hd)
                    }
                }
            }
        }
    }
}
