import Foundation
import Runtime
import Testing

/// `Sampler` against a naive, independent implementation of SGLang's sampling order (spec §3):
/// softmax(logits / T) → top-k renormalized → top-p on the renormalized mass → min-p → draw.
struct SamplerTests {
    /// Random logits from a fixed seed, with a few exact ties to exercise the ordering rule.
    static func logits(count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var values = (0..<count).map { _ in Float(rng.nextUnit() * 8 - 4) }
        if count > 10 { values[7] = values[3] }
        return values
    }

    /// The reference support set: every step written out the slow, obvious way.
    static func naiveSupport(_ logits: [Float], _ p: SamplingParams) -> [Int: Double] {
        if p.temperature < 1e-6 || p.topK == 1 {
            let best = logits.indices.max { a, b in logits[a] < logits[b] || (logits[a] == logits[b] && a > b) }
            return [best ?? 0: 1]
        }
        let m = Double(logits.max() ?? 0)
        let e = logits.map { exp((Double($0) - m) / p.temperature) }
        let z = e.reduce(0, +)
        var items = e.enumerated().map { (id: $0.offset, p: $0.element / z) }
        items.sort { $0.p > $1.p || ($0.p == $1.p && $0.id < $1.id) }
        if p.topK > 0 { items = Array(items.prefix(p.topK)) }
        var mass = items.reduce(0) { $0 + $1.p }
        items = items.map { (id: $0.id, p: $0.p / mass) }
        var kept: [(id: Int, p: Double)] = []
        var before = 0.0
        for item in items {
            if before > p.topP { break }
            kept.append(item)
            before += item.p
        }
        mass = kept.reduce(0) { $0 + $1.p }
        kept = kept.map { (id: $0.id, p: $0.p / mass) }
        let top = kept.map(\.p).max() ?? 0
        kept = kept.filter { $0.p >= top * p.minP }
        mass = kept.reduce(0) { $0 + $1.p }
        return Dictionary(uniqueKeysWithValues: kept.map { ($0.id, $0.p / mass) })
    }

    static let cases: [SamplingParams] = [
        SamplingParams(temperature: 1),
        SamplingParams(temperature: 0.7, topK: 20),
        SamplingParams(temperature: 1, topP: 0.9),
        SamplingParams(temperature: 1.3, topP: 0.5, topK: 50),
        SamplingParams(temperature: 0.8, minP: 0.1),
        SamplingParams(temperature: 1, topP: 0.95, topK: 40, minP: 0.05),
        SamplingParams(temperature: 2, topP: 0.3),
        SamplingParams(temperature: 1, topK: 1),
        SamplingParams(temperature: 0),
        SamplingParams(temperature: 5e-7, topP: 0.5),
    ]

    @Test(arguments: 0..<cases.count)
    func supportSetMatchesNaiveImplementation(caseIndex: Int) {
        let params = Self.cases[caseIndex]
        for seed in UInt64(1)...4 {
            let logits = Self.logits(count: 1000, seed: seed)
            let expected = Self.naiveSupport(logits, params)
            let got = Sampler.candidates(logits[...], params: params)
            #expect(Set(got.map(\.id)) == Set(expected.keys), "params \(params), seed \(seed)")
            for c in got {
                #expect(abs(c.p - (expected[c.id] ?? -1)) < 1e-9, "probability of \(c.id)")
            }
        }
    }

    @Test func greedyIsArgmaxAtTemperatureZero() {
        for seed in UInt64(10)...20 {
            let logits = Self.logits(count: 4096, seed: seed)
            let best = logits.indices.max { logits[$0] < logits[$1] } ?? -1
            var rng = SplitMix64(seed: seed)
            #expect(Sampler.sample(logits[...], params: SamplingParams(temperature: 0), rng: &rng) == best)
            #expect(Sampler.argmax(logits[...]) == best)
        }
        // Ties go to the lowest id, as torch.argmax.
        #expect(Sampler.argmax([1, 3, 3, 2][...]) == 1)
    }

    @Test func seededDrawsAreReproducibleAndFollowTheDistribution() {
        let logits: [Float] = [2.0, 1.5, 1.0, 0.2, -1.0, -3.0, 0.9, 1.4]
        let params = SamplingParams(temperature: 0.9, topP: 0.9, topK: 6, minP: 0.05, seed: 7)
        let support = Self.naiveSupport(logits, params)
        func draws(_ seed: UInt64, _ n: Int) -> [Int] {
            var rng = SplitMix64(seed: seed)
            return (0..<n).map { _ in Sampler.sample(logits[...], params: params, rng: &rng) }
        }
        let a = draws(7, 20000)
        #expect(a == draws(7, 20000))
        #expect(a != draws(8, 20000))
        #expect(a.allSatisfy { support[$0] != nil })
        for (id, p) in support {
            let freq = Double(a.filter { $0 == id }.count) / Double(a.count)
            #expect(abs(freq - p) < 0.015, "token \(id): frequency \(freq), probability \(p)")
        }
    }

    @Test func topLogprobsAreTheLargestLogSoftmaxValues() {
        let logits = Self.logits(count: 5000, seed: 99)
        let m = Double(logits.max() ?? 0)
        let logZ = m + log(logits.reduce(0) { $0 + exp(Double($1) - m) })
        let expected = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            .prefix(7)
        let got = Sampler.topLogprobs(logits[...], k: 7)
        #expect(got.map(\.id) == Array(expected))
        for g in got { #expect(abs(g.logprob - (Double(logits[g.id]) - logZ)) < 1e-9) }
        #expect(Sampler.topLogprobs(logits[...], k: 0).isEmpty)
    }

    @Test func invalidParametersAreRejected() {
        #expect(throws: RuntimeError.self) { try SamplingParams(temperature: -1).validate() }
        #expect(throws: RuntimeError.self) { try SamplingParams(topP: 0).validate() }
        #expect(throws: RuntimeError.self) { try SamplingParams(topK: 0).validate() }
        #expect(throws: RuntimeError.self) { try SamplingParams(minP: 1.5).validate() }
    }
}
