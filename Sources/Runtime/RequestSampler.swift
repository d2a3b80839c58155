import Foundation

/// Per-request sampling state, owned by the scheduler thread (one per running request).
///
/// `sample` runs SGLang's order (spec §3) on one row of raw logits: logits / temperature → + logit_bias → grammar
/// mask → frequency/presence penalties and min_new_tokens masking → repetition penalty → softmax → top-k
/// (renormalized) → top-p on the renormalized mass → min-p relative to the most likely token → a draw.
/// The work is sparse where it can be: penalties touch only the ids seen, greedy is one pass, and top-k / top-p /
/// min-p sort only a candidate set, never the vocabulary.
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
    }

    /// Records an output token (penalty counts, step += 1). Call it after `sample`, and also for tokens that were
    /// not sampled (jump-forward, or the output of a resumed request).
    public mutating func accept(_ token: Int) {
        step += 1
        guard token >= 0, token < vocabSize else { return }
        if usesCounts { outputCounts[token, default: 0] += 1 }
        if usesRepetition { seen.insert(token) }
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
        if params.minP > 0 {
            // Min-p keeps exp(x - m) ≥ min_p; the tokens below it come last in the sorted order, so they can
            // neither survive nor move top-p's cut, which needs only the full normalizer.
            let slack = Float(log(params.minP)) - 1e-3
            let md = Double(m)
            var ids: [Int] = []
            var weights: [Double] = []
            for i in 0..<n where logits[i] - m >= slack {
                let w = exp(Double(logits[i]) - md)
                if w >= params.minP {
                    ids.append(i)
                    weights.append(w)
                }
            }
            var normalizer = weights.reduce(0, +)
            if params.topP < 1 {
                normalizer = 0
                for v in logits where v > -.infinity { normalizer += Double(expf(v - m)) }
            }
            let order = ids.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && ids[$0] < ids[$1]) }
            return Self.draw(ids: order.map { ids[$0] }, weights: order.map { weights[$0] }, normalizer: normalizer,
                             topP: params.topP, minP: 0, u: u)
        }
        // Unnormalized probabilities in place, with the mass per power-of-two bucket for top-p's cut.
        var total = 0.0
        var bucketMass = [Double](repeating: 0, count: Self.buckets)
        let cutTopP = params.topP < 1
        for i in 0..<n {
            let v = logits[i]
            let e: Float = v > -.infinity ? expf(v - m) : 0
            logits[i] = e
            guard e > 0 else { continue }
            total += Double(e)
            if cutTopP { bucketMass[Self.bucket(e)] += Double(e) }
        }
        if !cutTopP {
            let target = u * total
            var acc = 0.0
            var last = -1
            for i in 0..<n where logits[i] > 0 {
                acc += Double(logits[i])
                last = i
                if target < acc { return i }
            }
            return last >= 0 ? last : Self.argmax(UnsafeBufferPointer(logits), mask: allowedMask)
        }
        // The nucleus lies in the smallest bucket prefix holding more than top_p of the mass: the buckets before
        // the last one are kept whole, only the last bucket's tokens need sorting.
        let limit = params.topP * total
        var acc = 0.0
        var b = 0
        while b < Self.buckets - 1 {
            acc += bucketMass[b]
            if acc > limit { break }
            b += 1
        }
        while true {
            var ids: [Int] = []
            var boundary: [Int] = []
            for i in 0..<n where logits[i] > 0 {
                let k = Self.bucket(logits[i])
                if k < b { ids.append(i) } else if k == b { boundary.append(i) }
            }
            boundary.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            ids += boundary
            let weights = ids.map { Double(logits[$0]) }
            // Rounding can leave the candidates' mass at or below the limit: then take the next bucket too.
            if b < Self.buckets - 1, weights.reduce(0, +) <= limit {
                b += 1
                continue
            }
            return Self.draw(ids: ids, weights: weights, normalizer: total, topP: params.topP, minP: 0, u: u)
        }
    }

    // MARK: - Passes

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
        for w in 0..<words {
            let bits = mask[w]
            let start = w << 5
            let end = min(start + 32, n)
            if bits == 0 {
                for i in start..<end { logits[i] = -.infinity }
            } else {
                for i in start..<end {
                    logits[i] = bits & (1 << UInt32(i & 31)) != 0 ? logits[i] * inverse : -.infinity
                }
            }
        }
        for i in min(words << 5, n)..<n { logits[i] = -.infinity }
    }

    /// + logit_bias, - frequency/presence penalties, min_new_tokens masking, repetition penalty: only the ids
    /// concerned. A -inf (masked) logit stays -inf.
    private func applySparse(_ logits: UnsafeMutableBufferPointer<Float>) {
        let n = logits.count
        for (id, value) in bias where id < n { logits[id] += value }
        if usesCounts {
            let fp = params.frequencyPenalty
            let pp = params.presencePenalty
            for (id, count) in outputCounts where id < n { logits[id] -= Float(fp * Double(count) + pp) }
        }
        if step < params.minNewTokens {
            for id in stopIds where id < n { logits[id] = -.infinity }
        }
        if usesRepetition {
            let rp = Float(params.repetitionPenalty)
            for id in seen where id < n {
                let v = logits[id]
                if v > 0 {
                    logits[id] = v / rp
                } else if v > -.infinity {
                    logits[id] = v * rp
                }
            }
        }
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

    /// Sorted candidates (descending weight, ties by lower id) → top-p on `weights / normalizer` (a token is cut
    /// when the mass strictly before it exceeds top_p) → min-p relative to the first → a draw with `u`.
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
        if minP > 0 {
            let threshold = minP * weights[0]
            var j = 1
            while j < kept, weights[j] >= threshold { j += 1 }
            kept = j
        }
        var mass = 0.0
        for j in 0..<kept { mass += weights[j] }
        let target = u * mass
        var acc = 0.0
        var last = first
        for j in 0..<kept where weights[j] > 0 {
            acc += weights[j]
            last = ids[j]
            if target < acc { return ids[j] }
        }
        return last
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
