import Foundation
import Runtime
import Testing

/// `RequestSampler` and `Logprobs` against a naive Double implementation of SGLang's sampling order (spec §3),
/// written out here independently: empirical frequencies of thousands of seeded draws are compared with the
/// exact distribution by a chi-square test at p = 0.001.
struct RequestSamplerTests {
    // MARK: - Independent reference

    /// The request's history and constraints, as the reference sees them.
    struct History {
        var prompt: [Int] = []
        var output: [Int] = []
        var stopIds: Set<Int> = []
        /// Allowed ids (nil: all).
        var allowed: Set<Int>? = nil
    }

    /// The logits the filters see: raw / T, + bias, grammar mask, − penalties, min_new_tokens mask, repetition.
    static func referenceEdited(_ raw: [Float], _ p: SamplingParams, _ h: History) -> [Double] {
        let t = p.temperature < 1e-6 ? 1 : p.temperature
        var x = raw.map { Double($0) / t }
        for (id, b) in p.logitBias { x[id] += b }
        if let allowed = h.allowed { for i in x.indices where !allowed.contains(i) { x[i] = -.infinity } }
        for id in Set(h.output) {
            let count = Double(h.output.filter { $0 == id }.count)
            x[id] -= p.frequencyPenalty * count + p.presencePenalty
        }
        if h.output.count < p.minNewTokens { for id in h.stopIds { x[id] = -.infinity } }
        for id in Set(h.prompt + h.output) where x[id] > -.infinity {
            x[id] = x[id] > 0 ? x[id] / p.repetitionPenalty : x[id] * p.repetitionPenalty
        }
        return x
    }

    /// The exact next-token distribution: every step of the spec's order, the slow and obvious way.
    static func referenceProbabilities(_ raw: [Float], _ p: SamplingParams, _ h: History) -> [Double] {
        let greedy = p.temperature < 1e-6 || p.topK == 1
        var x = referenceEdited(raw, p, h)
        var result = [Double](repeating: 0, count: x.count)
        if greedy {
            var best = 0
            for i in x.indices where x[i] > x[best] { best = i }
            result[best] = 1
            return result
        }
        let m = x.max() ?? 0
        let e = x.map { exp($0 - m) }
        let z = e.reduce(0, +)
        var items = e.enumerated().map { (id: $0.offset, p: $0.element / z) }.filter { $0.p > 0 }
        items.sort { $0.p > $1.p || ($0.p == $1.p && $0.id < $1.id) }
        func renormalize() {
            let mass = items.reduce(0) { $0 + $1.p }
            items = items.map { (id: $0.id, p: $0.p / mass) }
        }
        if p.topK > 0 { items = Array(items.prefix(p.topK)) }
        renormalize()
        var kept: [(id: Int, p: Double)] = []
        var before = 0.0
        for item in items {
            if before > p.topP { break }
            kept.append(item)
            before += item.p
        }
        items = kept
        renormalize()
        let top = items.map(\.p).max() ?? 0
        items = items.filter { $0.p >= top * p.minP }
        renormalize()
        for item in items { result[item.id] = item.p }
        return result
    }

    /// Random logits in [-spread, spread] from a fixed seed.
    static func logits(count: Int, seed: UInt64, spread: Double = 4) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float((rng.nextUnit() * 2 - 1) * spread) }
    }

    /// Bitmask words of `allowed` for `count` ids.
    static func mask(_ allowed: Set<Int>, count: Int) -> [UInt32] {
        var words = [UInt32](repeating: 0, count: (count + 31) / 32)
        for id in allowed { words[id >> 5] |= 1 << UInt32(id & 31) }
        return words
    }

    /// A sampler that has already produced `h.output`.
    static func sampler(_ p: SamplingParams, _ h: History, vocab: Int, seed: UInt64, sampleIndex: Int) -> RequestSampler {
        var s = RequestSampler(params: p, promptIds: h.prompt, vocabSize: vocab, stopIds: h.stopIds, seed: seed,
                               sampleIndex: sampleIndex)
        for t in h.output { s.accept(t) }
        return s
    }

    /// One draw on a copy of `raw`.
    static func draw(_ s: inout RequestSampler, _ raw: [Float], mask: [UInt32]?) -> Int {
        var row = raw
        return draw(&s, raw, into: &row, mask: mask)
    }

    /// One draw on a copy of `raw` written into `scratch` (no allocation per draw).
    static func draw(_ s: inout RequestSampler, _ raw: [Float], into scratch: inout [Float], mask: [UInt32]?) -> Int {
        scratch.withUnsafeMutableBufferPointer { buffer in
            _ = buffer.update(fromContentsOf: raw)
            if let mask { return mask.withUnsafeBufferPointer { s.sample(buffer, allowedMask: $0) } }
            return s.sample(buffer, allowedMask: nil)
        }
    }

    /// Pearson's chi-square of `counts` against `probabilities`, cells with an expected count below 5 pooled.
    /// Returns the statistic, the degrees of freedom and the number of draws of zero-probability ids.
    static func chiSquare(_ counts: [Int: Int], _ probabilities: [Double], draws: Int)
        -> (statistic: Double, df: Int, impossible: Int) {
        let n = Double(draws)
        var cells: [(observed: Double, expected: Double)] = []
        var pooled = (observed: 0.0, expected: 0.0)
        var impossible = 0
        for (id, c) in counts where probabilities[id] == 0 { impossible += c }
        for (id, p) in probabilities.enumerated() where p > 0 {
            let cell = (observed: Double(counts[id] ?? 0), expected: p * n)
            if cell.expected >= 5 {
                cells.append(cell)
            } else {
                pooled.observed += cell.observed
                pooled.expected += cell.expected
            }
        }
        if pooled.expected >= 5 || cells.isEmpty {
            cells.append(pooled)
        } else if pooled.expected > 0, let smallest = cells.indices.min(by: { cells[$0].expected < cells[$1].expected }) {
            cells[smallest].observed += pooled.observed
            cells[smallest].expected += pooled.expected
        }
        let statistic = cells.reduce(0) { $0 + ($1.observed - $1.expected) * ($1.observed - $1.expected) / $1.expected }
        return (statistic, cells.count - 1, impossible)
    }

    /// The chi-square critical value at p = 0.001 (Wilson–Hilferty; z = 3.0902 is the normal 0.999 quantile).
    static func critical(df: Int) -> Double {
        let k = Double(max(df, 1))
        let a = 2 / (9 * k)
        return k * pow(1 - a + 3.0902 * a.squareRoot(), 3)
    }

    /// 20,000 draws, one per sample index (all at the same step and history), checked against the reference.
    static func checkDistribution(_ raw: [Float], _ p: SamplingParams, _ h: History = History(), draws: Int = 20000,
                                  seed: UInt64 = 12345) {
        let expected = referenceProbabilities(raw, p, h)
        let words = h.allowed.map { mask($0, count: raw.count) }
        var counts: [Int: Int] = [:]
        var scratch = raw
        for i in 0..<draws {
            var s = sampler(p, h, vocab: raw.count, seed: seed, sampleIndex: i)
            counts[draw(&s, raw, into: &scratch, mask: words), default: 0] += 1
        }
        let (statistic, df, impossible) = chiSquare(counts, expected, draws: draws)
        #expect(impossible == 0, "\(impossible) draws outside the support, params \(p)")
        #expect(df >= 1, "the case should have more than one likely token")
        #expect(statistic < critical(df: df), "chi-square \(statistic) with \(df) df ≥ \(critical(df: df)), params \(p)")
    }

    // MARK: - Distributions

    static let filterCases: [SamplingParams] = [
        SamplingParams(temperature: 0.8),
        SamplingParams(temperature: 1.2, topK: 10),
        SamplingParams(temperature: 1, topP: 0.8),
        SamplingParams(temperature: 0.7, topP: 0.95),
        SamplingParams(temperature: 1, minP: 0.1),
        SamplingParams(temperature: 1.5, topP: 0.7, minP: 0.05),
        SamplingParams(temperature: 0.9, topP: 0.9, topK: 50, minP: 0.05),
        SamplingParams(temperature: 1, topK: 150),
    ]

    @Test(arguments: 0..<filterCases.count)
    func filteredDistributionsMatchTheExactOne(caseIndex: Int) {
        Self.checkDistribution(Self.logits(count: 200, seed: 7 + UInt64(caseIndex)), Self.filterCases[caseIndex])
    }

    /// Penalties, bias, grammar mask and min_new_tokens together, on a history with repeats in prompt and output.
    @Test func penalizedDistributionMatchesTheExactOne() {
        let raw = Self.logits(count: 120, seed: 99, spread: 3)
        var h = History(prompt: [3, 5, 8, 40, 41, 42, 3], output: [5, 5, 5, 9, 40, 77, 9], stopIds: [0, 1, 2])
        h.allowed = Set((0..<120).filter { $0 % 5 != 4 })
        let p = SamplingParams(minNewTokens: 10, temperature: 0.9, topP: 0.97, frequencyPenalty: 0.4,
                               presencePenalty: 0.6, repetitionPenalty: 1.4,
                               logitBias: [7: 2.5, 11: -1.5, 13: -.infinity, 24: 3])
        Self.checkDistribution(raw, p, h)
        // Negative penalties (encouraging repeats) and a repetition penalty below 1.
        let q = SamplingParams(temperature: 1.1, topK: 30, frequencyPenalty: -0.5, presencePenalty: -1,
                               repetitionPenalty: 0.7)
        Self.checkDistribution(raw, q, History(prompt: [1, 2, 3], output: [4, 4, 50, 60, 70]))
    }

    /// The sparse edits a device draw gets (`nextDeviceSampling`), applied as the device does (`x ← T · edit(x / T)`),
    /// give the reference's edited logits times T, at every step of a history that crosses min_new_tokens.
    @Test func deviceEditsGiveTheEditedLogits() {
        let raw = Self.logits(count: 120, seed: 41, spread: 3)
        let cases = [
            SamplingParams(minNewTokens: 4, temperature: 0.7, topP: 0.9, frequencyPenalty: 0.4, presencePenalty: 0.6,
                           repetitionPenalty: 1.4, logitBias: [7: 2.5, 11: -1.5, 24: 3]),
            SamplingParams(temperature: 0, repetitionPenalty: 0.8, logitBias: [1: 1]),
            SamplingParams(minNewTokens: 2, temperature: 1.3, topK: 1, frequencyPenalty: -0.5),
        ]
        let prompt = [3, 5, 8, 40, 41, 42, 3], output = [5, 5, 9, 40, 77, 9, 0, 119]
        for p in cases {
            let t = Float(p.temperature < 1e-6 ? 1 : p.temperature)
            var s = RequestSampler(params: p, promptIds: prompt, vocabSize: 120, stopIds: [0, 1, 2], seed: 5, sampleIndex: 0)
            for n in 0...output.count {
                let h = History(prompt: prompt, output: Array(output.prefix(n)), stopIds: [0, 1, 2])
                let expected = Self.referenceEdited(raw, p, h)
                let device = s.nextDeviceSampling
                #expect(device.editTemperature == t)
                var row = raw
                row.withUnsafeMutableBufferPointer { device.applyEdits(to: $0) }
                for i in row.indices {
                    let got = Double(row[i] / t), want = expected[i]
                    #expect(got == want || abs(got - want) <= 1e-5 * max(1, abs(want)), "id \(i) after \(n) tokens: \(got) vs \(want)")
                }
                if n < output.count { s.accept(output[n]) }
            }
        }
    }

    /// Draws along one stream (the step advancing) follow the distribution too.
    @Test func drawsAlongOneStreamMatchTheExactOne() {
        let raw = Self.logits(count: 64, seed: 3)
        let p = SamplingParams(temperature: 1, topP: 0.9, minP: 0.02)
        let expected = Self.referenceProbabilities(raw, p, History())
        var s = RequestSampler(params: p, promptIds: [], vocabSize: 64, stopIds: [], seed: 2024, sampleIndex: 0)
        var counts: [Int: Int] = [:]
        for _ in 0..<20000 {
            let id = Self.draw(&s, raw, mask: nil)
            counts[id, default: 0] += 1
            s.accept(id)
        }
        #expect(s.step == 20000)
        let (statistic, df, impossible) = Self.chiSquare(counts, expected, draws: 20000)
        #expect(impossible == 0)
        #expect(statistic < Self.critical(df: df), "chi-square \(statistic), \(df) df")
    }

    /// A large vocabulary exercises the partial selections (heap top-k, bucketed nucleus): the support must
    /// equal the reference's and the frequencies follow it.
    @Test func largeVocabularyDistributions() {
        var raw = Self.logits(count: 30000, seed: 5, spread: 3)
        for i in stride(from: 0, to: 30000, by: 599) { raw[i] += 7 }  // ~50 likely ids over a long tail
        for p in [SamplingParams(temperature: 1, topP: 0.9), SamplingParams(temperature: 0.8, topK: 40),
                  SamplingParams(temperature: 1, topP: 0.95, minP: 0.01)] {
            Self.checkDistribution(raw, p, draws: 3000)
        }
    }

    // MARK: - Penalties, masks, greedy

    /// Greedy picks the reference argmax under bias, mask, penalties and min_new_tokens, with and without a
    /// temperature (top_k = 1 applies it before the bias and penalties).
    @Test func greedyRespectsBiasMaskAndPenalties() {
        for seed in UInt64(1)...30 {
            var rng = SplitMix64(seed: seed)
            let vocab = 300
            let raw = Self.logits(count: vocab, seed: seed)
            let best = (0..<vocab).max { raw[$0] < raw[$1] } ?? 0
            var h = History(prompt: [best, Int(rng.next() % 300)], output: (0..<6).map { _ in Int(rng.next() % 300) },
                            stopIds: [best, 1])
            if seed % 2 == 0 { h.allowed = Set((0..<vocab).filter { _ in rng.next() % 3 != 0 }) }
            let p = SamplingParams(minNewTokens: seed % 3 == 0 ? 8 : 0, temperature: seed % 4 == 0 ? 0.5 : 0,
                                   topK: 1, frequencyPenalty: 0.7, presencePenalty: 0.3,
                                   repetitionPenalty: seed % 5 == 0 ? 0.6 : 1.8,
                                   logitBias: [Int(rng.next() % 300): 2, Int(rng.next() % 300): -3])
            let expected = Self.referenceProbabilities(raw, p, h).firstIndex(of: 1)
            var s = Self.sampler(p, h, vocab: vocab, seed: seed, sampleIndex: 0)
            #expect(Self.draw(&s, raw, mask: h.allowed.map { Self.mask($0, count: vocab) }) == expected, "seed \(seed)")
        }
    }

    /// Repetition penalty divides positive logits and multiplies negative ones, for prompt and output ids.
    @Test func repetitionPenaltyDependsOnTheSign() {
        let raw: [Float] = [2, 1.5, -1, -1.2, 0.1]
        let p = SamplingParams(temperature: 0, repetitionPenalty: 2)
        // 2 / 2 = 1 < 1.5: the prompt's token 0 loses to 1.
        var s = RequestSampler(params: p, promptIds: [0], vocabSize: 5, stopIds: [], seed: 1, sampleIndex: 0)
        #expect(Self.draw(&s, raw, mask: nil) == 1)
        // An output token counts too; and a negative logit gets more negative: -1 × 2 < -1.2.
        s.accept(1)
        s.accept(4)
        var row: [Float] = [-5, -5, -1, -1.2, -5]
        var penalized = RequestSampler(params: p, promptIds: [2], vocabSize: 5, stopIds: [], seed: 1, sampleIndex: 0)
        #expect(Self.draw(&penalized, row, mask: nil) == 3)
        row = raw
        #expect(Self.draw(&s, row, mask: nil) == 0, "0 → 1, 1 → 0.75, 4 → 0.05: token 0 wins again")
    }

    /// min_new_tokens masks every stop id until that many tokens were accepted, then lets them through.
    @Test func minNewTokensMasksStopIdsUntilReached() {
        var raw = Self.logits(count: 50, seed: 8)
        raw[7] = 20
        raw[9] = 19
        for params in [SamplingParams(minNewTokens: 3, temperature: 0), SamplingParams(minNewTokens: 3, temperature: 1)] {
            var s = RequestSampler(params: params, promptIds: [], vocabSize: 50, stopIds: [7, 9], seed: 4, sampleIndex: 0)
            for _ in 0..<3 {
                let id = Self.draw(&s, raw, mask: nil)
                #expect(id != 7 && id != 9)
                s.accept(id)
            }
            let id = Self.draw(&s, raw, mask: nil)
            #expect(params.temperature == 0 ? id == 7 : (id == 7 || id == 9), "a stop id once min_new_tokens is reached")
        }
        // When the grammar allows only a stop id, it is still chosen rather than a disallowed token.
        var s = RequestSampler(params: SamplingParams(minNewTokens: 5, temperature: 1), promptIds: [], vocabSize: 50,
                               stopIds: [9], seed: 4, sampleIndex: 0)
        #expect(Self.draw(&s, raw, mask: Self.mask([9], count: 50)) == 9)
    }

    /// The grammar mask: disallowed ids are never drawn; ids past a short mask count as disallowed.
    @Test func maskedIdsAreNeverSampled() {
        let raw = Self.logits(count: 100, seed: 21)
        let allowed: Set<Int> = [3, 17, 31, 32, 33, 64]
        let p = SamplingParams(temperature: 2, topP: 0.99)
        for i in 0..<3000 {
            var s = RequestSampler(params: p, promptIds: [], vocabSize: 100, stopIds: [], seed: 9, sampleIndex: i)
            #expect(allowed.contains(Self.draw(&s, raw, mask: Self.mask(allowed, count: 100))))
        }
        // A one-word mask over 100 ids: only ids below 32 can be chosen.
        var big = raw
        big[90] = 50
        var s = RequestSampler(params: SamplingParams(temperature: 0), promptIds: [], vocabSize: 100, stopIds: [],
                               seed: 1, sampleIndex: 0)
        let one: [UInt32] = [UInt32.max]
        #expect(Self.draw(&s, big, mask: one) == (0..<32).max { raw[$0] < raw[$1] })
    }

    /// NaN and infinite rows fall back safely instead of crashing or drawing a NaN id.
    @Test func nanAndInfiniteRowsFallBack() {
        let nan = [Float](repeating: .nan, count: 40)
        for p in [SamplingParams(temperature: 0), SamplingParams(temperature: 1, topP: 0.9),
                  SamplingParams(temperature: 1, topK: 5), SamplingParams(temperature: 1, minP: 0.1)] {
            var s = RequestSampler(params: p, promptIds: [], vocabSize: 40, stopIds: [], seed: 1, sampleIndex: 0)
            #expect(Self.draw(&s, nan, mask: nil) == 0)
            #expect(Self.draw(&s, nan, mask: Self.mask([12, 30], count: 40)) == 12)
            var partly = Self.logits(count: 40, seed: 2)
            for i in stride(from: 0, to: 40, by: 2) { partly[i] = .nan }
            for i in 0..<200 {
                var t = RequestSampler(params: p, promptIds: [], vocabSize: 40, stopIds: [], seed: 3, sampleIndex: i)
                #expect(Self.draw(&t, partly, mask: nil) % 2 == 1, "a NaN id was chosen")
            }
            let minusInf = [Float](repeating: -.infinity, count: 40)
            #expect(Self.draw(&s, minusInf, mask: Self.mask([5, 6], count: 40)) == 5)
        }
        // +inf logits share the mass equally.
        var inf = Self.logits(count: 10, seed: 4)
        inf[2] = .infinity
        inf[6] = .infinity
        var counts = [0, 0]
        for i in 0..<2000 {
            var s = RequestSampler(params: SamplingParams(temperature: 1), promptIds: [], vocabSize: 10, stopIds: [],
                                   seed: 5, sampleIndex: i)
            let id = Self.draw(&s, inf, mask: nil)
            #expect(id == 2 || id == 6)
            counts[id == 2 ? 0 : 1] += 1
        }
        let (statistic, _, _) = Self.chiSquare([2: counts[0], 6: counts[1]], [0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0], draws: 2000)
        #expect(statistic < Self.critical(df: 1))
    }

    // MARK: - Reproducibility

    /// A request's samples depend only on (seed, sample index, step): the same with other samplers interleaved,
    /// and after a resume that replays the output through `accept`; another sample index gives another stream.
    @Test func drawsAreReproducibleAcrossBatchesAndResumes() {
        let rows = (0..<120).map { Self.logits(count: 500, seed: 1000 + UInt64($0), spread: 2) }
        let p = SamplingParams(temperature: 1, topP: 0.95, topK: 200, frequencyPenalty: 0.2, repetitionPenalty: 1.1)
        func run(_ sampleIndex: Int, others: Int) -> [Int] {
            var mine = RequestSampler(params: p, promptIds: [1, 2, 3], vocabSize: 500, stopIds: [], seed: 77,
                                      sampleIndex: sampleIndex)
            var batch = (0..<others).map {
                RequestSampler(params: SamplingParams(temperature: 0.5 + Double($0)), promptIds: [], vocabSize: 500,
                               stopIds: [], seed: UInt64($0), sampleIndex: $0)
            }
            var out: [Int] = []
            for row in rows {
                for j in batch.indices { batch[j].accept(Self.draw(&batch[j], row, mask: nil)) }
                let id = Self.draw(&mine, row, mask: nil)
                mine.accept(id)
                out.append(id)
            }
            return out
        }
        let alone = run(0, others: 0)
        #expect(alone == run(0, others: 3))
        #expect(alone == run(0, others: 1))
        let other = run(1, others: 0)
        #expect(zip(alone, other).filter { $0 != $1 }.count > 30, "sample index 1 should be another stream")
        // Resume after 60 tokens: a fresh sampler that accepts the first 60 continues identically.
        var resumed = RequestSampler(params: p, promptIds: [1, 2, 3], vocabSize: 500, stopIds: [], seed: 77,
                                     sampleIndex: 0)
        for id in alone.prefix(60) { resumed.accept(id) }
        var tail: [Int] = []
        for row in rows.dropFirst(60) {
            let id = Self.draw(&resumed, row, mask: nil)
            resumed.accept(id)
            tail.append(id)
        }
        #expect(tail == Array(alone.dropFirst(60)))
        // The uniforms of different streams and steps are not the same numbers.
        let a = RequestSampler(params: p, promptIds: [], vocabSize: 500, stopIds: [], seed: 77, sampleIndex: 0)
        let b = RequestSampler(params: p, promptIds: [], vocabSize: 500, stopIds: [], seed: 78, sampleIndex: 0)
        let ua = (0..<100).map { a.uniform(atStep: $0) }
        #expect(Set(ua).count == 100 && ua.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(ua != (0..<100).map { b.uniform(atStep: $0) })
    }

    // MARK: - Logprobs

    @Test func logprobsMatchAnIndependentLogSoftmax() {
        var raw = Self.logits(count: 3000, seed: 31, spread: 6)
        raw[10] = raw[20]  // a tie: the lower id first
        raw[7] = -.infinity
        let m = Double(raw.max() ?? 0)
        let logZ = m + log(raw.reduce(0) { $0 + exp(Double($1) - m) })
        let order = raw.indices.sorted { raw[$0] > raw[$1] || (raw[$0] == raw[$1] && $0 < $1) }
        raw.withUnsafeBufferPointer { row in
            let z = Logprobs.logNormalizer(row)
            #expect(abs(z - logZ) < 1e-9)
            for k in [1, 5, 20, 800, 3000] {
                let top = Logprobs.top(row, k: k, logNormalizer: z)
                #expect(top.map(\.id) == Array(order.prefix(k)), "k = \(k)")
                for (id, lp) in top where raw[id] > -.infinity {
                    #expect(abs(lp - (Double(raw[id]) - logZ)) < 1e-9)
                }
            }
            #expect(Logprobs.top(row, k: 0, logNormalizer: z).isEmpty)
            #expect(abs(Logprobs.logprob(of: 42, in: row, logNormalizer: z) - (Double(raw[42]) - logZ)) < 1e-9)
            #expect(Logprobs.logprob(of: 7, in: row, logNormalizer: z) == -.infinity)
            #expect(Logprobs.logprob(of: 3000, in: row, logNormalizer: z) == -.infinity)
        }
        // The probabilities of the whole row sum to one.
        raw.withUnsafeBufferPointer { row in
            let z = Logprobs.logNormalizer(row)
            let total = Logprobs.top(row, k: row.count, logNormalizer: z).reduce(0) { $0 + exp($1.logprob) }
            #expect(abs(total - 1) < 1e-9)
        }
    }
}
