import Compute
import Foundation
import JSON
import Models
import Testing

/// One tiny fixture model with fresh KV pools.
private struct TinyModel {
    let name: String
    let model: CausalLM
    let sequences: [[Int32]]
    /// reference logits: sequence → position → vocab.
    let logits: [[[Float]]]
    let greedy: [[Int]]

    init(_ name: String) throws {
        self.name = name
        let folder = try Fixtures.shared("tiny/\(name)")
        model = try CausalLM(folder: folder)
        let ref = try Fixtures.json(folder + "/reference.json")
        sequences = (ref["sequences"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).map { Int32($0.intValue ?? -1) } }
        logits = (ref["logits"]?.arrayValue ?? []).map { seq in
            (seq.arrayValue ?? []).map { pos in (pos.arrayValue ?? []).map { Float($0.doubleValue ?? .nan) } }
        }
        greedy = (ref["greedy"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).map { $0.intValue ?? -1 } }
        #expect(sequences.count == 4 && logits.count == 4 && greedy.count == 4, "reference.json of \(name) is incomplete")
    }

    func pools() -> (ReqToTokenPool, TokenToKVPool) {
        (ReqToTokenPool(maxRequests: 8, maxContext: 128), model.makeKVPool(size: 1024))
    }
}

/// Largest absolute difference between a logits row and a reference row (infinity on a length
/// mismatch or a NaN, so neither can pass a tolerance check).
private func maxDiff(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
    guard a.count == b.count, !b.isEmpty else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// Prefills `seqs` as one batch (each in its own request row) and returns the logits of every token.
private func prefill(_ m: TinyModel, _ seqs: [[Int32]], reqPool: ReqToTokenPool, kvPool: TokenToKVPool,
                     rows: [Int32]) throws -> Logits {
    let slots = try kvPool.alloc(seqs.reduce(0) { $0 + $1.count })
    let batch = ForwardBatch(requests: rows, prefixLens: seqs.map { _ in 0 }, newTokens: seqs, slots: slots)
    return try m.model.forward(batch, reqToToken: reqPool, kvPool: kvPool, logits: .all)
}

@Suite("Tiny model forward vs transformers")
struct TinyModelForwardTests {
    @Test("prefill logits of all four sequences within 1e-3", arguments: Fixtures.tinyNames)
    func prefillLogits(name: String) throws {
        let m = try TinyModel(name)
        for (s, seq) in m.sequences.enumerated() {
            let (reqPool, kvPool) = m.pools()
            let out = try prefill(m, [seq], reqPool: reqPool, kvPool: kvPool, rows: [0])
            #expect(out.rows == seq.count)
            var worst: Float = 0
            for p in 0..<seq.count { worst = max(worst, maxDiff(out.row(p), m.logits[s][p])) }
            #expect(worst <= 1e-3, "\(name) sequence \(s): max |Δlogit| = \(worst)")
            if ProcessInfo.processInfo.environment["TINY_PRINT_DIFFS"] != nil {
                print("\(name) sequence \(s): max |Δlogit| = \(worst)")
            }
        }
    }

    @Test("16 greedy ids through decode steps", arguments: Fixtures.tinyNames)
    func greedyDecode(name: String) throws {
        let m = try TinyModel(name)
        for (s, seq) in m.sequences.enumerated() {
            let (reqPool, kvPool) = m.pools()
            let slots = try kvPool.alloc(seq.count)
            var out = try m.model.forward(
                ForwardBatch(requests: [0], prefixLens: [0], newTokens: [seq], slots: slots),
                reqToToken: reqPool, kvPool: kvPool)
            var ids: [Int] = []
            var length = seq.count
            while ids.count < 16 {
                let next = out.argmax(0)
                ids.append(next)
                if ids.count == 16 { break }
                let batch = ForwardBatch(requests: [0], prefixLens: [length], newTokens: [[Int32(next)]],
                                         slots: try kvPool.alloc(1))
                #expect(batch.mode == .decode)
                out = try m.model.forward(batch, reqToToken: reqPool, kvPool: kvPool)
                length += 1
            }
            #expect(ids == m.greedy[s], "\(name) sequence \(s)")
        }
    }

    @Test("prefill half, then extend the rest on the cached prefix == one prefill", arguments: Fixtures.tinyNames)
    func extendOnCachedPrefix(name: String) throws {
        let m = try TinyModel(name)
        for (s, seq) in m.sequences.enumerated() where seq.count >= 2 {
            let (reqPool, kvPool) = m.pools()
            let half = seq.count / 2
            let first = Array(seq[..<half]), second = Array(seq[half...])
            let a = try prefill(m, [first], reqPool: reqPool, kvPool: kvPool, rows: [3])
            let batch = ForwardBatch(requests: [3], prefixLens: [half], newTokens: [second],
                                     slots: try kvPool.alloc(second.count))
            let b = try m.model.forward(batch, reqToToken: reqPool, kvPool: kvPool, logits: .all)
            var worst: Float = 0
            for p in 0..<half { worst = max(worst, maxDiff(a.row(p), m.logits[s][p])) }
            for p in 0..<second.count { worst = max(worst, maxDiff(b.row(p), m.logits[s][half + p])) }
            #expect(worst <= 1e-3, "\(name) sequence \(s): max |Δlogit| = \(worst)")
        }
    }

    @Test("four sequences in one batch == one at a time", arguments: Fixtures.tinyNames)
    func batchedEqualsSingle(name: String) throws {
        let m = try TinyModel(name)
        let (reqPool, kvPool) = m.pools()
        let rows: [Int32] = [5, 1, 2, 7]
        let all = try prefill(m, m.sequences, reqPool: reqPool, kvPool: kvPool, rows: rows)
        var offset = 0
        for (s, seq) in m.sequences.enumerated() {
            let (rp, kp) = m.pools()
            let single = try prefill(m, [seq], reqPool: rp, kvPool: kp, rows: [0])
            var worst: Float = 0
            for p in 0..<seq.count {
                worst = max(worst, maxDiff(all.row(offset + p), Array(single.row(p))))
                worst = max(worst, maxDiff(all.row(offset + p), m.logits[s][p]))
            }
            #expect(worst <= 1e-3, "\(name) sequence \(s) in a batch: max |Δlogit| = \(worst)")
            offset += seq.count
        }

        // Batched greedy decoding of all four requests at once.
        var lengths = m.sequences.map(\.count)
        var lastRow: [Int] = []
        var end = 0
        for seq in m.sequences {
            end += seq.count
            lastRow.append(end - 1)
        }
        var next = lastRow.map { all.argmax($0) }
        var generated: [[Int]] = next.map { [$0] }
        for _ in 1..<16 {
            let batch = ForwardBatch(requests: rows, prefixLens: lengths, newTokens: next.map { [Int32($0)] },
                                     slots: try kvPool.alloc(4))
            let out = try m.model.forward(batch, reqToToken: reqPool, kvPool: kvPool)
            next = (0..<4).map { out.argmax($0) }
            for i in 0..<4 {
                generated[i].append(next[i])
                lengths[i] += 1
            }
        }
        #expect(generated == m.greedy, "\(name): batched greedy ids")
    }
}

@Suite("Dummy weights")
struct DummyWeightTests {
    @Test("dummy weights of a real config build a model whose batched and single decodes agree")
    func dummySmolLM2() throws {
        let config = try ModelConfig.load(from: try Fixtures.shared("configs/smollm2-135m/config.json"))
        var small = config
        small.numHiddenLayers = 2  // keep the test fast; shapes per layer stay real
        small.layerTypes = Array(small.layerTypes.prefix(2))
        let source = DummyWeightSource(config: small, seed: 1)
        try small.validateWeights(source)
        let model = try CausalLM(config: small, weights: source)
        let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 32)
        let kvPool = model.makeKVPool(size: 64)
        let seqs: [[Int32]] = [[1, 2, 3, 4], [5, 6]]
        let out = try model.forward(
            ForwardBatch(requests: [0, 1], prefixLens: [0, 0], newTokens: seqs, slots: try kvPool.alloc(6)),
            reqToToken: reqPool, kvPool: kvPool)
        #expect(out.rows == 2 && out.values.allSatisfy { $0.isFinite })
        let single = try model.forward(
            ForwardBatch(requests: [1], prefixLens: [0], newTokens: [[5, 6]], slots: try kvPool.alloc(2)),
            reqToToken: reqPool, kvPool: kvPool)
        #expect(maxDiff(out.row(1), Array(single.row(0))) < 1e-4)
    }
}
