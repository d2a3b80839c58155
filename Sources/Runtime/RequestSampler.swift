import Foundation
import Models

/// Per-request sampling state, owned by the scheduler thread (one per running request).
///
/// `sample` runs SGLang's order (spec §3) on one row of raw logits: logits / temperature → + logit_bias → grammar
/// mask → frequency/presence penalties and min_new_tokens masking → repetition penalty → softmax → top-k
/// (renormalized) → top-p on the renormalized mass → min-p relative to the most likely token → a draw.
/// The work is sparse where it can be: penalties touch only the ids seen, greedy is one pass, top-k is a heap
/// selection, and top-p sorts only the tokens of one probability bucket, never the vocabulary.
public struct RequestSampler: Sendable {
    /// The request's parameters.
    public let params: SamplingParams
    /// The seed of the request's random stream.
    public let seed: UInt64
    /// Which of the request's parallel samples (`n`) this is.
    public let sampleIndex: Int
    /// Output tokens accepted so far.
    public private(set) var step: Int = 0

    private let vocabSize: Int
    /// EOS and stop ids inside the vocabulary, masked while `step < params.minNewTokens`.
    private let stopIds: [Int]
    /// logit_bias inside the vocabulary.
    private let bias: [(id: Int, value: Float)]
    /// Occurrences of each id in the output (kept only when a frequency or presence penalty is set).
    private var outputCounts: [Int: Int] = [:]
    /// Ids of the prompt and the output (kept only when a repetition penalty is set).
    private var seen: Set<Int> = []
    /// The temperature actually applied: SGLang turns a greedy temperature into 1 with top_k 1.
    private let temperature: Float
    private let greedy: Bool
    private let usesCounts: Bool
    private let usesRepetition: Bool
    /// The per-request key of the counter-based random stream (from seed and sample index).
    private let streamKey: UInt64
    /// The sparse pass as one edit per id concerned (bias, frequency/presence penalty, repetition penalty, the stop
    /// ids masked until `minNewTokens` tokens were accepted), kept current by `accept`: the host sampler applies
    /// them, a device draw gets them, and a step costs no rebuild (a long prompt's repetition set holds thousands).
    private var edits: [DeviceLogitEdit] = []
    /// Where each id's edit is in `edits`.
    private var editIndex: [Int: Int] = [:]

    /// A sampler for one request.
    /// - Parameters:
    ///   - promptIds: the prompt (for the repetition penalty).
    ///   - vocabSize: ids at or above it (in the prompt, stop ids, logit_bias) are ignored.
    ///   - stopIds: every id that ends the request (EOS ids + stop_token_ids); they are masked to -inf while fewer
    ///     than `params.minNewTokens` tokens were generated. When the grammar mask allows nothing else, the
    ///     fallback still picks the first allowed id, so a grammar that can only end does end.
    ///   - seed, sampleIndex: counter-based randomness: the draw at output step `t` depends only on
    ///     (seed, sampleIndex, t), so a request's samples are reproducible whatever else is in the batch, and
    ///     after a retraction/resume (replay the output through `accept`).
    public init(params: SamplingParams, promptIds: [Int], vocabSize: Int, stopIds: Set<Int>, seed: UInt64,
                sampleIndex: Int) {
        self.params = params
        self.seed = seed
        self.sampleIndex = sampleIndex
        self.vocabSize = vocabSize
        self.stopIds = stopIds.filter { $0 >= 0 && $0 < vocabSize }.sorted()
        bias = params.logitBias.filter { $0.key >= 0 && $0.key < vocabSize && $0.value != 0 }
            .map { (id: $0.key, value: Float($0.value)) }.sorted { $0.id < $1.id }
        let greedyTemperature = params.temperature < Sampler.greedyThreshold
        temperature = greedyTemperature ? 1 : Float(params.temperature)
        greedy = greedyTemperature || params.topK == 1
        usesCounts = params.frequencyPenalty != 0 || params.presencePenalty != 0
        usesRepetition = params.repetitionPenalty != 1
        if usesRepetition { seen = Set(promptIds.lazy.filter { $0 >= 0 && $0 < vocabSize }) }
        streamKey = Self.mix(Self.mix(seed &+ 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(bitPattern: Int64(sampleIndex)) &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
        for (id, value) in bias { updateEdit(id) { $0.bias = value } }
        if params.minNewTokens > 0 { for id in self.stopIds { updateEdit(id) { $0.masked = true } } }
        if usesRepetition {
            let rp = Float(params.repetitionPenalty)
            for id in seen { updateEdit(id) { $0.repetition = rp } }
        }
    }

    /// Records an output token (penalty counts, step += 1). Call it after `sample`, and also for tokens that were
    /// not sampled (jump-forward, or the output of a resumed request).
    public mutating func accept(_ token: Int) {
        step += 1
        if step == params.minNewTokens { for id in stopIds { updateEdit(id) { $0.masked = false } } }
        guard token >= 0, token < vocabSize else { return }
        if usesCounts {
            outputCounts[token, default: 0] += 1
            let penalty = Float(params.frequencyPenalty * Double(outputCounts[token, default: 0]) + params.presencePenalty)
            updateEdit(token) { $0.penalty = penalty }
        }
        if usesRepetition, seen.insert(token).inserted {
            let rp = Float(params.repetitionPenalty)
            updateEdit(token) { $0.repetition = rp }
        }
    }

    /// Changes the edit of `id`, adding it when it has none.
    private mutating func updateEdit(_ id: Int, _ change: (inout DeviceLogitEdit) -> Void) {
        if let i = editIndex[id] {
            change(&edits[i])
            return
        }
        var edit = DeviceLogitEdit(token: Int32(id))
        change(&edit)
        editIndex[id] = edits.count
        edits.append(edit)
    }

    /// The uniform draw in [0, 1) used at output step `step`: a hash of (seed, sampleIndex, step).
    public func uniform(atStep step: Int) -> Double {
        let bits = Self.mix(streamKey ^ (UInt64(bitPattern: Int64(step)) &* 0x9E37_79B9_7F4A_7C15 &+ 0x632B_E59B_D9B4_E019))
        return Double(bits >> 11) * 0x1.0p-53
    }

    /// Chooses the next token from one row of raw logits (rewritten in place: bias, mask, penalties, and for
    /// non-greedy requests the unnormalized probabilities). Bit `i & 31` of `allowedMask[i >> 5]` set = token `i`
    /// allowed; ids past the mask's words are disallowed; nil = all allowed. Greedy (temperature < 1e-6 or
    /// top_k == 1) is the argmax after the bias/mask/penalty passes, ties by lower id. NaN logits are never
    /// chosen; when no allowed logit is above -inf the first allowed id (or the row's argmax) is returned.
    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>, allowedMask: UnsafeBufferPointer<UInt32>?) -> Int {
        let n = logits.count
        guard n > 0 else { return 0 }
        if greedy {
            if temperature != 1, hasSparseWork { scale(logits, mask: nil) }
            applySparse(logits)
            return Self.argmax(UnsafeBufferPointer(logits), mask: allowedMask)
        }
        if temperature != 1 || allowedMask != nil { scale(logits, mask: allowedMask) }
        applySparse(logits)
        var m = -Float.infinity
        for v in logits where v > m { m = v }
        if m == -.infinity { return Self.argmax(UnsafeBufferPointer(logits), mask: allowedMask) }
        if m == .infinity {
            // The limit of the softmax: +inf logits share all the mass.
            for i in 0..<n { logits[i] = logits[i] == .infinity ? 0 : -.infinity }
            m = 0
        }
        let u = uniform(atStep: step)
        let topK = params.topK < 0 ? n : min(params.topK, n)
        if topK < n {
            let ids = TopSelection.indices(UnsafeBufferPointer(logits), k: topK, includeNegativeInfinity: false)
            let md = Double(m)
            let weights = ids.map { exp(Double(logits[$0]) - md) }
            return Self.draw(ids: ids, weights: weights, normalizer: weights.reduce(0, +), topP: params.topP,
                             minP: params.minP, u: u)
        }
        // Unnormalized probabilities e = exp(x - m) in place (the largest is exactly 1).
        var blockSums: [Double] = []
        let total = Self.exponentiate(logits, max: m, blockSums: &blockSums)
        if params.topP >= 1, params.minP <= 0 {
            // The whole distribution: find the block holding u·total, then the token inside it.
            let target = u * total
            var acc = 0.0
            var block = 0
            while block < blockSums.count - 1, acc + blockSums[block] <= target {
                acc += blockSums[block]
                block += 1
            }
            var last = -1
            for i in block * Self.blockSize..<min((block + 1) * Self.blockSize, n) where logits[i] > 0 {
                acc += Double(logits[i])
                last = i
                if target < acc { return i }
            }
            if last >= 0 { return last }
            // Rounding left the target past the end: the last token with any mass.
            return (0..<n).last { logits[$0] > 0 } ?? Self.argmax(UnsafeBufferPointer(logits), mask: allowedMask)
        }
        // Min-p relative to the most likely token (e = 1) keeps e ≥ min_p; it comes after top-p, whose cut depends
        // only on the heavier tokens, so it is a plain filter here.
        let floor = Float(params.minP)
        // Top-p: the nucleus lies in the smallest bucket prefix holding more than top_p of the mass. The buckets
        // before the last one are kept whole in any order; only the last ("boundary") bucket is sorted. Without
        // top-p, `b == buckets`: every token is in a whole bucket.
        let limit = params.topP * total
        var b = Self.buckets
        if params.topP < 1 {
            var bucketMass = [Double](repeating: 0, count: Self.buckets)
            for i in 0..<n where logits[i] > 0 { bucketMass[Self.bucket(logits[i])] += Double(logits[i]) }
            var acc = 0.0
            b = 0
            while b < Self.buckets - 1 {
                acc += bucketMass[b]
                if acc > limit { break }
                b += 1
            }
        }
        while true {
            let whole = b == Self.buckets
            // Bucket bounds as floats: bucket(e) < b ⇔ e ≥ sureFrom, bucket(e) == b ⇔ boundaryFrom ≤ e < sureFrom.
            let sureFrom = whole ? Float.leastNonzeroMagnitude : Self.bucketStart(b - 1)
            let boundaryFrom = whole || b == Self.buckets - 1 ? Float.leastNonzeroMagnitude : Self.bucketStart(b)
            var boundary: [Int] = []
            var sure = 0.0
            var sureKept = 0.0
            for i in 0..<n where logits[i] >= boundaryFrom {
                let e = logits[i]
                if e >= sureFrom {
                    sure += Double(e)
                    if e >= floor { sureKept += Double(e) }
                } else {
                    boundary.append(i)
                }
            }
            boundary.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            // Top-p on the boundary, continuing the mass before it: a token is cut when the mass strictly before
            // it exceeds top_p.
            var kept = boundary.count
            var before = sure
            for j in boundary.indices {
                if before > limit {
                    kept = j
                    break
                }
                before += Double(logits[boundary[j]])
            }
            // Rounding can leave the candidates' mass at or below the limit: then take the next bucket too.
            if !whole, kept == boundary.count, before <= limit, b < Self.buckets - 1 {
                b += 1
                continue
            }
            let boundaryKept = boundary.prefix(kept).filter { logits[$0] >= floor }
            let target = u * boundaryKept.reduce(sureKept) { $0 + Double(logits[$1]) }
            var acc = 0.0
            var last = -1
            let from = max(sureFrom, floor)
            for i in 0..<n where logits[i] >= from {
                acc += Double(logits[i])
                last = i
                if target < acc { return i }
            }
            for i in boundaryKept {
                acc += Double(logits[i])
                last = i
                if target < acc { return i }
            }
            return last >= 0 ? last : Self.argmax(UnsafeBufferPointer(logits), mask: allowedMask)
        }
    }

    // MARK: - Passes

    /// Whether the next token is the plain argmax of the raw logits (greedy, and no bias, penalty or
    /// min-new-tokens mask applies), so a device model may pick it without copying the logits back.
    public var nextIsPlainArgmax: Bool { greedy && !hasSparseWork }

    /// The next token's settings for a device model's sampler: the filters, and the bias / penalty / min-new-tokens
    /// work of this step as sparse edits of the ids concerned. The draw uses this request's stream at its current
    /// step: as reproducible per (seed, step) as `sample`, though from the device's generator, so not the same
    /// tokens.
    public var nextDeviceSampling: DeviceSampling {
        let edits = hasSparseWork ? self.edits : []
        if greedy { return DeviceSampling(temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: 0, edits: edits,
                                          editTemperature: temperature) }
        return DeviceSampling(
            temperature: temperature, topK: params.topK <= 0 ? 0 : Int32(clamping: params.topK), topP: Float(params.topP),
            minP: Float(params.minP), seed: streamKey, step: UInt64(step), edits: edits, editTemperature: temperature)
    }

    /// The device settings of the draw `ahead` steps from now, or nil when the tokens drawn in between could change
    /// them (frequency, presence or repetition penalties; min_new_tokens unmasking the stop ids): overlap
    /// scheduling launches a step before the host has read the one before it.
    public func deviceSampling(ahead: Int) -> DeviceSampling? {
        guard ahead > 0 else { return nextDeviceSampling }
        if usesCounts || usesRepetition { return nil }
        if step < params.minNewTokens && step + ahead >= params.minNewTokens { return nil }
        var settings = nextDeviceSampling
        if !greedy { settings.step = UInt64(step + ahead) }
        return settings
    }

    /// Whether the sparse pass changes anything this step.
    private var hasSparseWork: Bool {
        !bias.isEmpty || (usesCounts && !outputCounts.isEmpty) || (usesRepetition && !seen.isEmpty)
            || (step < params.minNewTokens && !stopIds.isEmpty)
    }

    /// logits / temperature, and -inf outside the mask.
    private func scale(_ logits: UnsafeMutableBufferPointer<Float>, mask: UnsafeBufferPointer<UInt32>?) {
        let n = logits.count
        let inverse = 1 / temperature
        guard let mask else {
            if inverse != 1 { for i in 0..<n { logits[i] *= inverse } }
            return
        }
        let words = min(mask.count, (n + 31) / 32)
        guard let base = logits.baseAddress else { return }
        let raw = UnsafeMutableRawPointer(base)
        let laneBits = SIMD8<UInt32>(1, 2, 4, 8, 16, 32, 64, 128)
        let factor = SIMD8<Float>(repeating: inverse)
        let negativeInfinity = SIMD8<UInt32>(repeating: (-Float.infinity).bitPattern)
        for w in 0..<words {
            let bits = mask[w]
            let start = w << 5
            if start + 32 <= n {
                // 8 lanes at a time: lane j of group g is allowed when bit 8g + j is set. Plain integer ops
                // (bit ≥ 1 → carry into the sign bit → all-ones lane) select the value or -inf.
                for g in 0..<4 {
                    let offset = (start + 8 * g) * 4
                    let bit = SIMD8<UInt32>(repeating: bits >> UInt32(8 * g)) & laneBits
                    let keep = 0 &- ((bit &+ 0x7FFF_FFFF) &>> 31)
                    let v = raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * factor
                    let out = (unsafeBitCast(v, to: SIMD8<UInt32>.self) & keep) | (~keep & negativeInfinity)
                    raw.storeBytes(of: out, toByteOffset: offset, as: SIMD8<UInt32>.self)
                }
            } else {
                for i in start..<n {
                    logits[i] = bits & (1 << UInt32(i & 31)) != 0 ? logits[i] * inverse : -.infinity
                }
            }
        }
        for i in min(words << 5, n)..<n { logits[i] = -.infinity }
    }

    /// + logit_bias, - frequency/presence penalties, min_new_tokens masking, repetition penalty: only the ids
    /// concerned, through the same edits a device draw gets. A -inf (masked) logit stays -inf.
    private func applySparse(_ logits: UnsafeMutableBufferPointer<Float>) {
        for e in edits where Int(e.token) < logits.count { logits[Int(e.token)] = e.apply(logits[Int(e.token)]) }
    }

    // MARK: - Helpers

    /// Buckets of the unnormalized probabilities e in (0, 1]: 32 per octave over 48 octaves, the last one
    /// catching everything smaller.
    private static let buckets = 48 * 32

    /// The bucket of e in (0, 1], read from the exponent and the top 5 mantissa bits (for positive floats the
    /// bit pattern orders like the value, so a larger e never lands in a later bucket).
    private static func bucket(_ e: Float) -> Int {
        let key = Int(e.bitPattern >> 18)
        return min(max((127 << 5) - key, 0), buckets - 1)
    }

    /// The smallest e of bucket `b` (for b < buckets - 1; for b = -1 a value above 1, so no e reaches it).
    private static func bucketStart(_ b: Int) -> Float {
        Float(bitPattern: UInt32((127 << 5) - b) << 18)
    }

    /// Candidates in descending weight order (ties by lower id) → top-p on `weights / normalizer` (a token is cut
    /// when the mass strictly before it exceeds top_p) → min-p relative to the heaviest kept → a draw with `u`.
    private static func draw(ids: [Int], weights: [Double], normalizer: Double, topP: Double, minP: Double,
                             u: Double) -> Int {
        guard let first = ids.first else { return 0 }
        var kept = ids.count
        if topP < 1 {
            let limit = topP * normalizer
            var before = 0.0
            for j in 0..<ids.count {
                if before > limit {
                    kept = j
                    break
                }
                before += weights[j]
            }
        }
        var heaviest = 0.0
        for j in 0..<kept where weights[j] > heaviest { heaviest = weights[j] }
        let threshold = minP > 0 ? minP * heaviest : 0
        var mass = 0.0
        for j in 0..<kept where weights[j] >= threshold { mass += weights[j] }
        let target = u * mass
        var acc = 0.0
        var last = first
        for j in 0..<kept where weights[j] > 0 && weights[j] >= threshold {
            acc += weights[j]
            last = ids[j]
            if target < acc { return ids[j] }
        }
        return last
    }

    /// Tokens per partial sum of `exponentiate` (so a draw over the whole row scans one block).
    private static let blockSize = 256

    /// e = exp(x - m) in place for x ≤ m (8 lanes at a time); NaN, -inf and e below 2^-126 become 0. Returns the
    /// sum of e and fills `blockSums` with the sum of each `blockSize` block (Float within a block, Double across).
    static func exponentiate(_ row: UnsafeMutableBufferPointer<Float>, max m: Float, blockSums: inout [Double]) -> Double {
        let n = row.count
        guard let base = row.baseAddress else { return 0 }
        blockSums = [Double](repeating: 0, count: (n + blockSize - 1) / blockSize)
        let raw = UnsafeMutableRawPointer(base)
        typealias V = SIMD8<Float>
        let lanes = V.scalarCount
        let shift = V(repeating: m)
        let lowest = V(repeating: -87)
        let log2e = V(repeating: 1.442_695_04)
        // ln 2 in two parts (Cody–Waite) so r = x - k·ln2 stays exact.
        let ln2High = V(repeating: 0.693_359_375)
        let ln2Low = V(repeating: -2.121_944_4e-4)
        let magic = V(repeating: 12_582_912)  // 1.5 · 2^23: adding it rounds to an integer in the low bits
        let magicBits = SIMD8<Int32>(repeating: Int32(bitPattern: (12_582_912 as Float).bitPattern))
        var total = 0.0
        var start = 0
        for block in 0..<blockSums.count {
            let end = min(start + blockSize, n)
            // Float lanes over one short block (32 values each), then Double across blocks.
            var sum = V()
            var i = start
            while i + lanes <= end {
                let x = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) - shift
                let valid = x .>= lowest
                let xc = x.replacing(with: 0, where: .!valid)
                let rounded = xc * log2e + magic
                let k = rounded - magic
                let r = xc - k * ln2High - k * ln2Low
                // exp(r) for |r| ≤ ln2/2: Taylor to degree 7 (relative error below 1e-8).
                var p = V(repeating: 1.0 / 5040)
                p = p * r + 1.0 / 720
                p = p * r + 1.0 / 120
                p = p * r + 1.0 / 24
                p = p * r + 1.0 / 6
                p = p * r + 0.5
                p = p * r + 1
                p = p * r + 1
                let exponent = unsafeBitCast(rounded, to: SIMD8<Int32>.self) &- magicBits
                let scale = unsafeBitCast((exponent &+ 127) &<< 23, to: V.self)
                let e = (p * scale).replacing(with: 0, where: .!valid)
                raw.storeBytes(of: e, toByteOffset: i * 4, as: V.self)
                sum += e
                i += lanes
            }
            var s = Double(sum.sum())
            while i < end {
                let x = row[i] - m
                let e: Float = x >= -87 ? expf(x) : 0
                row[i] = e
                s += Double(e)
                i += 1
            }
            blockSums[block] = s
            total += s
            start = end
        }
        return total
    }

    /// The largest allowed non-NaN logit, ties by lower id; with none above -inf, the first allowed non-NaN id,
    /// then the first allowed id; with an empty mask, the same over the whole row.
    static func argmax(_ row: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt32>?) -> Int {
        let n = row.count
        guard n > 0 else { return 0 }
        var best = -1
        var bestValue = -Float.infinity
        guard let mask else {
            for i in 0..<n where row[i] > bestValue {
                best = i
                bestValue = row[i]
            }
            if best >= 0 { return best }
            return (0..<n).first { !row[$0].isNaN } ?? 0
        }
        let words = min(mask.count, (n + 31) / 32)
        var firstAllowed = -1
        var firstNumber = -1
        for w in 0..<words {
            var bits = mask[w]
            while bits != 0 {
                let i = w << 5 | bits.trailingZeroBitCount
                bits &= bits &- 1
                guard i < n else { break }
                let v = row[i]
                if v > bestValue {
                    best = i
                    bestValue = v
                } else if firstNumber < 0 {
                    if firstAllowed < 0 { firstAllowed = i }
                    if !v.isNaN { firstNumber = i }
                }
            }
        }
        if best >= 0 { return best }
        if firstNumber >= 0 { return firstNumber }
        if firstAllowed >= 0 { return firstAllowed }
        return argmax(row, mask: nil)
    }

    /// SplitMix64's finalizer: a bijective 64-bit mix.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
