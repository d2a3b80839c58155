import Foundation

extension CPUBackend {
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
        let maxSeq = batch.seqLens.max() ?? 0
        let items = batch.tokenCount * layout.kvHeads
        let scale = parameters.scale
        let cap = parameters.softcap
        requestOfToken.withUnsafeBufferPointer { reqOf in
            Parallel.forEachChunk(items, minPerChunk: 2) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, maxSeq * group)) { scores in
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, maxSeq)) { slots in
                        for item in range {
                            let t = item / layout.kvHeads, kvh = item % layout.kvHeads
                            let r = reqOf[t]
                            let row = Int(batch.reqPoolIndices[r])
                            let pos = Int(batch.positions[t])
                            let lo = parameters.slidingWindow.map { max(0, pos - $0 + 1) } ?? 0
                            let n = pos - lo + 1
                            let table = reqToToken.table + row * reqToToken.maxContext + lo
                            for j in 0..<n { slots[j] = table[j] }
                            let q = qkv.pointer + t * layout.width + kvh * group * hd
                            // Scores for the whole query group, reusing each key row.
                            for j in 0..<n {
                                let k = kStore + Int(slots[j]) * stride + kvh * hd
                                for g in 0..<group {
                                    let qg = q + g * hd
                                    var dot: Float = 0
                                    for d in 0..<hd { dot += qg[d] * k[d] }
                                    var s = dot * scale
                                    if let cap { s = tanhf(s / cap) * cap }
                                    scores[g * n + j] = s
                                }
                            }
                            for g in 0..<group {
                                let sg = scores.baseAddress! + g * n
                                var m = -Float.infinity
                                for j in 0..<n { m = max(m, sg[j]) }
                                var sum: Float = 0
                                for j in 0..<n {
                                    let e = expf(sg[j] - m)
                                    sg[j] = e
                                    sum += e
                                }
                                let inv = 1 / sum
                                let o = output.pointer + t * layout.qHeads * hd + (kvh * group + g) * hd
                                for d in 0..<hd { o[d] = 0 }
                                for j in 0..<n {
                                    let v = vStore + Int(slots[j]) * stride + kvh * hd
                                    let p = sg[j] * inv
                                    for d in 0..<hd { o[d] += p * v[d] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
