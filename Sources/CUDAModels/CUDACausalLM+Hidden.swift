import Compute
import CUDA
import Models

extension CUDACausalLM {
    /// Runs the batch and copies back the final hidden state of each request's last new token, in fp32.
    ///
    /// Every forward (eager or a replayed decode graph) leaves the final norm of every token row in the workspace;
    /// the last rows are gathered from there, so the vocabulary projection's result is simply not read.
    public func forwardHidden(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> HiddenStates {
        lock.lock()
        defer { lock.unlock() }
        let rows = try logitRows(batch, .lastPerRequest)
        try run(batch, reqToToken: reqToToken, kvPool: kvPool, rows: rows, selection: .lastPerRequest, skipLayers: false)
        let h = local.hiddenSize
        inputs.set(.logitRows, rows.map { Int32($0) })
        try inputs.copyToDevice(.logitRows, count: rows.count, on: stream)
        try kernels.gatherRows(src: workspace.normed.address, out: workspace.delta.address,
                               indices: inputs.address(.logitRows), count: rows.count, dim: h, type: type, stream: stream)
        let values: [Float]
        switch type {
        case .float32:
            values = try workspace.delta.download(Float.self, count: rows.count * h, on: stream)
        case .bfloat16:
            values = try workspace.delta.download(UInt16.self, count: rows.count * h, on: stream)
                .map(FloatConversion.bfloat16ToFloat)
        }
        return HiddenStates(rows: rows.count, hiddenSize: h, values: values)
    }
}
