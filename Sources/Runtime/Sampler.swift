import Foundation

/// A small seeded random stream (SplitMix64): reproducible per request and independent of other requests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A stream starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

/// Token selection from one row of logits, in SGLang's order (spec §3): logits / temperature → softmax →
/// top-k (renormalized) → top-p on the renormalized mass → min-p relative to the most likely token →
/// a draw from what is left. Temperature below `greedyThreshold` is argmax.
public enum Sampler {
    /// SGLang's greedy cut-off on the temperature.
    public static let greedyThreshold = 1e-6

    /// The index of the largest logit (the first on ties, as torch.argmax).
    public static func argmax(_ logits: ArraySlice<Float>) -> Int {
        guard !logits.isEmpty else { return 0 }
        var best = logits.startIndex
        for j in logits.indices where logits[j] > logits[best] { best = j }
        return best - logits.startIndex
    }

    /// The probabilities after temperature, top-k, top-p and min-p, renormalized: (token id, probability)
    /// pairs in descending probability order (ties: lower id first). A greedy request keeps only the argmax.
    public static func candidates(_ logits: ArraySlice<Float>, params: SamplingParams) -> [(id: Int, p: Double)] {
        if params.isGreedy { return [(argmax(logits), 1)] }
        let base = logits.startIndex
        let t = params.temperature
        var maxLogit = -Double.infinity
        for v in logits where Double(v) > maxLogit { maxLogit = Double(v) }
        guard maxLogit.isFinite else { return [(argmax(logits), 1)] }
        var probs = [Double](repeating: 0, count: logits.count)
        var total = 0.0
        for j in 0..<logits.count {
            let e = exp((Double(logits[base + j]) - maxLogit) / t)
            probs[j] = e
            total += e
        }
        // Exact order (descending probability, ascending id) so the support set is deterministic.
        var order: [Int]
        let k = params.topK == -1 ? logits.count : min(params.topK, logits.count)
        let byProbability: (Int, Int) -> Bool = { a, b in probs[a] > probs[b] || (probs[a] == probs[b] && a < b) }
        if k < logits.count {
            order = partialTop(k, of: probs, by: byProbability)
        } else if params.topP < 1 {
            order = Array(0..<logits.count)
            order.sort(by: byProbability)
        } else {
            order = Array(0..<logits.count)
        }
        // Top-k renormalization.
        var kept = order.map { (id: $0, p: probs[$0] / total) }
        if k < logits.count {
            let mass = kept.reduce(0) { $0 + $1.p }
            kept = kept.map { (id: $0.id, p: $0.p / mass) }
        }
        // Top-p: drop a token when the mass strictly before it already exceeds top_p.
        if params.topP < 1 {
            var before = 0.0
            var cut = kept.count
            for (i, c) in kept.enumerated() {
                if before > params.topP {
                    cut = i
                    break
                }
                before += c.p
            }
            kept.removeLast(kept.count - cut)
            let mass = kept.reduce(0) { $0 + $1.p }
            kept = kept.map { (id: $0.id, p: $0.p / mass) }
        }
        // Min-p relative to the most likely remaining token.
        if params.minP > 0 {
            let top = kept.reduce(0) { max($0, $1.p) }
            let threshold = top * params.minP
            kept = kept.filter { $0.p >= threshold }
            let mass = kept.reduce(0) { $0 + $1.p }
            kept = kept.map { (id: $0.id, p: $0.p / mass) }
        }
        if kept.isEmpty { return [(argmax(logits), 1)] }
        return kept
    }

    /// Samples one token id from `logits` with `params`, drawing from `rng`.
    public static func sample(_ logits: ArraySlice<Float>, params: SamplingParams,
                              rng: inout some RandomNumberGenerator) -> Int {
        if params.isGreedy { return argmax(logits) }
        let kept = candidates(logits, params: params)
        let u = Double(rng.next() >> 11) * 0x1.0p-53
        var acc = 0.0
        for c in kept {
            acc += c.p
            if u < acc { return c.id }
        }
        // Rounding left `u` past the accumulated mass: the last kept token.
        return kept[kept.count - 1].id
    }

    /// The `k` largest log-probabilities of the model's distribution (log-softmax of the raw logits, before
    /// temperature): (token id, logprob) in descending order, ties by lower id.
    public static func topLogprobs(_ logits: ArraySlice<Float>, k: Int) -> [(id: Int, logprob: Double)] {
        guard k > 0, !logits.isEmpty else { return [] }
        return logits.withUnsafeBufferPointer { row in
            Logprobs.top(row, k: k, logNormalizer: Logprobs.logNormalizer(row))
        }
    }

    /// The indices of the `k` first elements under `before` (a strict total order), sorted.
    static func partialTop(_ k: Int, of values: [Double], by before: (Int, Int) -> Bool) -> [Int] {
        guard k > 0 else { return [] }
        if k * 8 >= values.count {
            var all = Array(0..<values.count)
            all.sort(by: before)
            return Array(all.prefix(k))
        }
        // A sorted buffer of the best k so far; most candidates fail the cheap check against its tail.
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for i in 0..<values.count {
            if best.count == k, let last = best.last, !before(i, last) { continue }
            var lo = 0
            var hi = best.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if before(best[mid], i) { lo = mid + 1 } else { hi = mid }
            }
            best.insert(i, at: lo)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
