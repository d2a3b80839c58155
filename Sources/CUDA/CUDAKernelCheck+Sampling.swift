import CCUDA
import CKernelParams

extension CUDAKernelCheck {
    /// `sgl_logit_edits` against the edits applied on the host in fp32: random rows, temperatures, distinct edited
    /// tokens per row (bias, penalty, masking, repetition penalty, some on -inf logits, one outside the vocabulary);
    /// every other logit must come back unchanged.
    func checkLogitEdits() throws -> [CUDAKernelCheckResult] {
        let rowsN = 5, vocab = 32_000
        var values = randoms(rowsN * vocab, scale: 4)
        let temperatures: [Float] = [1, 0.7, 1.6, 0.25, 1]
        var edits: [SGLLogitEdit] = []
        var starts: [Int32] = []
        for r in 0..<rowsN {
            starts.append(Int32(edits.count))
            // Row 4 has no edits; the others 1, 60, 500 and 3000 distinct tokens.
            let count = [1, 60, 500, 3000, 0][r]
            var tokens = Set<Int32>()
            while tokens.count < count { tokens.insert(Int32(rng.next() % UInt64(vocab))) }
            for token in tokens.sorted() {
                if rng.next() % 10 == 0 { values[r * vocab + Int(token)] = -.infinity }
                let repetitions: [Float] = [1, 1.3, 0.8]
                edits.append(SGLLogitEdit(
                    token: token, masked: rng.next() % 10 == 0 ? 1 : 0, bias: rng.next() % 2 == 0 ? 0 : rng.normal() * 3,
                    penalty: rng.next() % 2 == 0 ? 0 : abs(rng.normal()), repetition: repetitions[Int(rng.next() % 3)]))
            }
            if r == 2 { edits.append(SGLLogitEdit(token: Int32(vocab + 5), masked: 1, bias: 1, penalty: 0, repetition: 1)) }
        }
        starts.append(Int32(edits.count))
        let logits = try CUDADeviceBuffer(context: context, copying: values)
        let startBuffer = try CUDADeviceBuffer(context: context, copying: starts)
        let editBuffer = try CUDADeviceBuffer(context: context, copying: edits)
        let temperatureBuffer = try CUDADeviceBuffer(context: context, copying: temperatures)
        try kernels.logitEdits(logits: logits.address, rowStarts: startBuffer.address, edits: editBuffer.address,
                               temperature: temperatureBuffer.address, rows: rowsN, vocab: vocab, stream: stream)
        let gpu = try logits.download(Float.self, count: rowsN * vocab, on: stream)
        var ref = values
        for r in 0..<rowsN {
            let t = temperatures[r], inverse = 1 / t
            for e in edits[Int(starts[r])..<Int(starts[r + 1])] where e.token < vocab {
                let i = r * vocab + Int(e.token)
                var v = (ref[i] * inverse + e.bias) - e.penalty
                if e.masked != 0 { v = -.infinity }
                if e.repetition != 1 {
                    if v > 0 { v /= e.repetition } else if v > -.infinity { v *= e.repetition }
                }
                ref[i] = v * t
            }
        }
        return [Self.compare("logit_edits", gpu, ref, tolerance: 1e-6,
                             note: "\(rowsN)×\(vocab), \(edits.count) edits, temperatures \(temperatures)")]
    }
}
