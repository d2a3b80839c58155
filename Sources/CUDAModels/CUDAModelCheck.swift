import Compute
import CUDA
import Foundation
import JSON
import Models

/// Checks a CUDA model against a transformers reference (`reference.json` of the tiny fixtures, or one a
/// script wrote on the device for a real-width model with random weights): logits of every sequence, the
/// same logits batched and through a cached prefix (extend), and greedy ids through decode steps (graphs).
public struct CUDAModelCheck {
    /// One line of the report.
    public struct Row: Sendable {
        /// What was checked.
        public var check: String
        /// The measured error or agreement.
        public var value: String
        /// The bound it was held to.
        public var bound: String
        /// Whether it held.
        public var passed: Bool
    }

    /// The reference: token sequences, logits at some positions, greedy continuations.
    public struct Reference: Sendable {
        /// Token ids of each sequence.
        public var sequences: [[Int32]]
        /// Positions of each sequence whose logits are given (all positions when the file has no `positions`).
        public var positions: [[Int]]
        /// Logits: sequence → listed position → vocab.
        public var logits: [[[Float]]]
        /// Greedy continuation of each sequence.
        public var greedy: [[Int]]

        /// Reads `reference.json`.
        public init(path: String) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let root = try JSONValue.parse(bytes: [UInt8](data))
            func ints(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).compactMap { $0.intValue } }
            func floats(_ v: JSONValue) -> [Float] { (v.arrayValue ?? []).map { Float($0.doubleValue ?? .nan) } }
            sequences = (root["sequences"]?.arrayValue ?? []).map { ints($0).map { Int32($0) } }
            var logits: [[[Float]]] = []
            for seq in root["logits"]?.arrayValue ?? [] {
                logits.append((seq.arrayValue ?? []).map(floats))
            }
            self.logits = logits
            greedy = (root["greedy"]?.arrayValue ?? []).map { ints($0) }
            if let listed = root["positions"]?.arrayValue {
                positions = listed.map { ints($0) }
            } else {
                positions = logits.map { Array(0..<$0.count) }
            }
            guard !sequences.isEmpty, sequences.count == logits.count, sequences.count == positions.count,
                  zip(positions, logits).allSatisfy({ $0.count == $1.count })
            else { throw CUDAModelError.invalidReference("\(path) lacks sequences/logits/positions of matching lengths") }
        }
    }

    let model: CUDACausalLM
    let reference: Reference
    /// Logit bound: absolute for fp32, norm-wise relative per row for bf16.
    let bound: Float
    let relative: Bool
    /// Greedy ids must agree while our top-1/top-2 margin exceeds this.
    let marginBound: Float
    /// The same weights on the CPU backend (small models): the final hidden states embedding models pool are
    /// compared with its.
    let cpu: (any CausalModel)?

    /// A check of `model` against `reference` with the bounds (fp32: 1e-3 absolute; bf16: 2e-2
    /// relative, norm-wise per logits row; greedy ids while the margin > 0.1), and against `cpu` when given.
    public init(model: CUDACausalLM, reference: Reference, cpu: (any CausalModel)? = nil) {
        self.model = model
        self.reference = reference
        self.cpu = cpu
        relative = model.options.dtype == .bfloat16
        bound = relative ? 2e-2 : 1e-3
        marginBound = 0.1
    }

    /// Runs every check.
    public func run() throws -> [Row] {
        var rows: [Row] = []
        let context = (reference.sequences.map(\.count).max() ?? 1) + (reference.greedy.map(\.count).max() ?? 0) + 8
        // One at a time.
        var single: [Logits] = []
        var worst: Float = 0
        for (s, seq) in reference.sequences.enumerated() {
            let out = try prefill([seq], context: context)
            single.append(out)
            for (k, p) in reference.positions[s].enumerated() where p < seq.count {
                worst = max(worst, error(out.row(p), reference.logits[s][k]))
            }
        }
        rows.append(row("prefill logits vs transformers", worst))
        // All sequences in one batch must give the same logits as one at a time.
        let batched = try prefill(reference.sequences, context: context)
        var offset = 0, batchWorst: Float = 0
        for (s, seq) in reference.sequences.enumerated() {
            for p in 0..<seq.count {
                let a = batched.row(offset + p), b = Array(single[s].row(p))
                batchWorst = max(batchWorst, relative ? error(a, b) : Self.maxAbs(a, b))
            }
            offset += seq.count
        }
        // bf16: cuBLASLt picks other kernels for other row counts, so only the logit bound holds.
        rows.append(Row(check: "batched prefill = one at a time", value: Self.format(batchWorst),
                        bound: relative ? "2e-2 rel" : "1e-4 abs", passed: batchWorst <= (relative ? bound : 1e-4)))
        if model.config.moe != nil {
            // Both expert paths on the same batch: per-expert cuBLASLt GEMMs vs the grouped kernel.
            let saved = model.moeBLASMinRowsPerExpert
            defer { model.moeBLASMinRowsPerExpert = saved }
            model.moeBLASMinRowsPerExpert = 0
            let blas = try prefill(reference.sequences, context: context)
            model.moeBLASMinRowsPerExpert = .max
            let grouped = try prefill(reference.sequences, context: context)
            var worstPath: Float = 0
            for r in 0..<blas.rows {
                let a = blas.row(r), b = Array(grouped.row(r))
                worstPath = max(worstPath, relative ? error(a, b) : Self.maxAbs(a, b))
            }
            rows.append(Row(check: "MoE experts: cuBLASLt = grouped kernel", value: Self.format(worstPath),
                            bound: relative ? "2e-2 rel" : "1e-4 abs", passed: worstPath <= (relative ? bound : 1e-4)))
        }
        // First half prefilled, second half extended over the cached prefix.
        var extendWorst: Float = 0
        for (s, seq) in reference.sequences.enumerated() where seq.count >= 2 {
            let half = seq.count / 2
            let pools = try pools(context: context)
            let first = try pools.kv.alloc(half)
            _ = try model.forward(ForwardBatch(requests: [0], prefixLens: [0], newTokens: [Array(seq[0..<half])], slots: first),
                                  reqToToken: pools.req, kvPool: pools.kv, logits: .lastPerRequest)
            let rest = Array(seq[half...])
            let out = try model.forward(
                ForwardBatch(requests: [0], prefixLens: [half], newTokens: [rest], slots: try pools.kv.alloc(rest.count)),
                reqToToken: pools.req, kvPool: pools.kv, logits: .all)
            for i in 0..<rest.count {
                extendWorst = max(extendWorst, error(out.row(i), Array(single[s].row(half + i))))
            }
        }
        rows.append(row("extend over cached prefix = prefill", extendWorst))
        if let cpu { rows.append(contentsOf: try hiddenChecks(cpu, context: context)) }
        // Greedy continuations through decode steps: one request alone, then all together (graph buckets).
        if !reference.greedy.isEmpty {
            var agreeing = 0, compared = 0
            var alone: [[Int]] = [], aloneMargins: [[Float]] = []
            for (s, seq) in reference.sequences.enumerated() {
                let (ids, margins) = try greedy([seq], steps: reference.greedy[s].count, context: context)
                alone.append(ids[0])
                aloneMargins.append(margins[0])
                for (i, ref) in reference.greedy[s].enumerated() {
                    if ids[0][i] == ref {
                        agreeing += 1
                        compared += 1
                        continue
                    }
                    // A disagreement fails only where our own top-1 margin is clear; after it the
                    // continuations differ, so the rest of the sequence is not compared.
                    if margins[0][i] > marginBound { compared += 1 }
                    break
                }
            }
            rows.append(Row(check: "greedy ids vs transformers (margin > 0.1)", value: "\(agreeing)/\(compared)",
                            bound: "all", passed: agreeing == compared))
            let steps = reference.greedy.map(\.count).min() ?? 0
            let (together, togetherMargins) = try greedy(reference.sequences, steps: steps, context: context)
            var same = 0, total = 0
            for (s, ids) in together.enumerated() {
                for i in 0..<steps {
                    if ids[i] == alone[s][i] {
                        same += 1
                        total += 1
                        continue
                    }
                    if togetherMargins[s][i] > marginBound && aloneMargins[s][i] > marginBound { total += 1 }
                    break
                }
            }
            rows.append(Row(check: "batched decode = one at a time (margin > 0.1)", value: "\(same)/\(total)", bound: "all",
                            passed: same == total))
        }
        return rows
    }

    /// Final hidden states (what `--is-embedding` pools) against the CPU backend's: every sequence's last token in
    /// one prefill batch, and the last token alone over the cached rest (a decode step, replayed from a graph).
    func hiddenChecks(_ cpu: any CausalModel, context: Int) throws -> [Row] {
        let seqs = reference.sequences.filter { $0.count >= 2 }
        guard !seqs.isEmpty else { return [] }
        func run(_ m: any CausalModel, lastAlone: Bool) throws -> HiddenStates {
            let rows = (0..<seqs.count).map { Int32($0) }
            let req = ReqToTokenPool(maxRequests: seqs.count + 1, maxContext: context)
            let kv = try m.makeKVPool(size: seqs.count * context + 1)
            let heads = lastAlone ? seqs.map { Array($0.dropLast()) } : seqs
            let first = ForwardBatch(requests: rows, prefixLens: seqs.map { _ in 0 }, newTokens: heads,
                                     slots: try kv.alloc(heads.reduce(0) { $0 + $1.count }))
            guard lastAlone else { return try m.forwardHidden(first, reqToToken: req, kvPool: kv) }
            _ = try m.forward(first, reqToToken: req, kvPool: kv, logits: .lastPerRequest)
            let last = ForwardBatch(requests: rows, prefixLens: heads.map(\.count), newTokens: seqs.map { [$0[$0.count - 1]] },
                                    slots: try kv.alloc(seqs.count))
            return try m.forwardHidden(last, reqToToken: req, kvPool: kv)
        }
        let want = try run(cpu, lastAlone: false)
        var checks: [Row] = []
        for (label, lastAlone) in [("final hidden states (prefill) = CPU", false), ("final hidden states (decode) = CPU", true)] {
            let got = try run(model, lastAlone: lastAlone)
            var worst: Float = got.rows == want.rows && got.hiddenSize == want.hiddenSize ? 0 : .infinity
            for r in 0..<min(got.rows, want.rows) { worst = max(worst, error(got.row(r), Array(want.row(r)))) }
            checks.append(row(label, worst))
        }
        return checks
    }

    func pools(context: Int) throws -> (req: ReqToTokenPool, kv: TokenToKVPool) {
        let n = reference.sequences.count
        return (ReqToTokenPool(maxRequests: n + 1, maxContext: context), try model.makeKVPool(size: n * context + 1))
    }

    func prefill(_ seqs: [[Int32]], context: Int) throws -> Logits {
        let p = try pools(context: context)
        let slots = try p.kv.alloc(seqs.reduce(0) { $0 + $1.count })
        let batch = ForwardBatch(requests: (0..<seqs.count).map { Int32($0) }, prefixLens: seqs.map { _ in 0 },
                                 newTokens: seqs, slots: slots)
        return try model.forward(batch, reqToToken: p.req, kvPool: p.kv, logits: .all)
    }

    /// Greedy ids and our top-1/top-2 margins of `steps` tokens per sequence (prefill, then decode steps).
    func greedy(_ seqs: [[Int32]], steps: Int, context: Int) throws -> ([[Int]], [[Float]]) {
        let p = try pools(context: context)
        let rows = (0..<seqs.count).map { Int32($0) }
        var ids = Array(repeating: [Int](), count: seqs.count)
        var margins = Array(repeating: [Float](), count: seqs.count)
        var lengths = seqs.map(\.count)
        var logits = try model.forward(
            ForwardBatch(requests: rows, prefixLens: seqs.map { _ in 0 }, newTokens: seqs,
                         slots: try p.kv.alloc(lengths.reduce(0, +))),
            reqToToken: p.req, kvPool: p.kv, logits: .lastPerRequest)
        for _ in 0..<steps {
            var next: [[Int32]] = []
            for r in 0..<seqs.count {
                let (best, margin) = Self.top(logits.row(r))
                ids[r].append(best)
                margins[r].append(margin)
                next.append([Int32(best)])
            }
            logits = try model.forward(
                ForwardBatch(requests: rows, prefixLens: lengths, newTokens: next, slots: try p.kv.alloc(seqs.count)),
                reqToToken: p.req, kvPool: p.kv, logits: .lastPerRequest)
            lengths = lengths.map { $0 + 1 }
        }
        return (ids, margins)
    }

    func row(_ check: String, _ value: Float) -> Row {
        Row(check: check, value: Self.format(value), bound: relative ? "2e-2 rel" : "1e-3 abs", passed: value <= bound)
    }

    /// Largest absolute error (fp32), or the row's norm-wise relative error `‖ours − ref‖₂ / ‖ref‖₂` (bf16).
    func error(_ ours: ArraySlice<Float>, _ ref: [Float]) -> Float {
        guard relative else { return Self.maxAbs(ours, ref) }
        guard ours.count == ref.count, !ref.isEmpty else { return .infinity }
        var diff2 = 0.0, ref2 = 0.0
        for (x, y) in zip(ours, ref) {
            let d = Double(x) - Double(y)
            if d.isNaN { return .infinity }
            diff2 += d * d
            ref2 += Double(y) * Double(y)
        }
        return Float((diff2 / max(ref2, 1e-30)).squareRoot())
    }

    static func maxAbs(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
        guard a.count == b.count, !b.isEmpty else { return .infinity }
        var worst: Float = 0
        for (x, y) in zip(a, b) {
            let d = abs(x - y)
            if d.isNaN { return .infinity }
            worst = max(worst, d)
        }
        return worst
    }

    static func top(_ row: ArraySlice<Float>) -> (Int, Float) {
        var best = row.startIndex, second = Float(-Float.infinity)
        for i in row.indices where row[i] > row[best] { best = i }
        for i in row.indices where i != best { second = max(second, row[i]) }
        return (best - row.startIndex, row[best] - second)
    }

    static func format(_ x: Float) -> String { x.isFinite ? String(format: "%.2e", Double(x)) : "\(x)" }
}
