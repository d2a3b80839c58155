import CCUDA
import Compute
import CUDA
import Models

/// Overlap scheduling on the GPU (spec §7.13): a decode step is queued and the call returns, so the scheduler
/// prepares the next step (and processes the one before) while the device runs this one. The next step's input
/// ids that were drawn by this one are taken on the device (`sgl_take_carried`) before its layers run.
extension CUDACausalLM {
    /// One GPU with device sampling: tensor-parallel steps wait for every rank.
    public var launchesAhead: Bool { options.deviceSampling && group == nil }

    public func launchDecode(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                             sampling: [DeviceSampling], carried: [Int32]) throws -> LaunchedDecode {
        lock.lock()
        defer { lock.unlock() }
        guard launchesAhead else {
            throw ComputeError.invalidBatch("\(deviceName) cannot launch a step ahead (it needs device sampling on one GPU)")
        }
        guard batch.mode == .decode, batch.extendLens.allSatisfy({ $0 == 1 }) else {
            throw ComputeError.invalidBatch("only decode steps (one new token per request) are launched ahead")
        }
        let rows = try logitRows(batch, .lastPerRequest)
        let n = rows.count
        guard sampling.count == n, carried.count == n else {
            throw ComputeError.invalidBatch("\(sampling.count) sampling settings and \(carried.count) carried ids for \(n) requests")
        }
        if launchedSteps == nil { launchedSteps = try CUDALaunchedSteps(context: context) }
        guard let steps = launchedSteps else { throw ComputeError.invalidBatch("no launch state") }
        if let bad = carried.first(where: { $0 >= Int32(steps.previousRows) }) {
            throw ComputeError.invalidBatch("carried row \(bad) is past the previous step's \(steps.previousRows) ids")
        }
        var staged: StagedSampling?
        try run(batch, reqToToken: reqToToken, kvPool: kvPool, rows: rows, selection: .lastPerRequest, skipLayers: false) { [self] in
            // Everything the step uploads is queued by now: from here on the pinned blocks may be rewritten once
            // the device has taken them, which `stage` waits for.
            staged = try stageSampling(sampling)
            inputs.set(.carried, carried)
            try inputs.copyToDevice(.carried, count: n, on: stream)
            try steps.uploaded.record(on: stream)
            steps.uploadsPending = true
            if carried.contains(where: { $0 >= 0 }) {
                try kernels.takeCarried(inputIds: inputs.address(.inputIds), carried: inputs.address(.carried),
                                        previousIds: steps.previousIds.address, count: n,
                                        previousCount: steps.previousRows, stream: stream)
            }
        }
        guard let staged else { throw ComputeError.invalidBatch("the step was not staged") }
        try draw(staged, rows: n)
        // The ids stay on the device for the next step, and go to this step's pinned slot for the host.
        try steps.previousIds.reserve(n * 4)
        guard let previous = steps.previousIds.buffer else { throw ComputeError.invalidBatch("no carried-id buffer") }
        try previous.copy(fromAddress: inputs.address(.outIds), bytes: n * 4, on: stream)
        steps.previousRows = n
        let slot = steps.count % 2
        let block = try steps.resultBlock(slot, bytes: n * 4, context: context)
        try block.copy(fromDevice: inputs.address(.outIds), bytes: n * 4, on: stream)
        try steps.drawn[slot].record(on: stream)
        let ticket = LaunchedDecode(sequence: steps.count, rows: n)
        steps.count += 1
        return ticket
    }

    public func drawnIds(_ step: LaunchedDecode) throws -> [Int32] {
        lock.lock()
        defer { lock.unlock() }
        guard let steps = launchedSteps, step.sequence < steps.count, step.sequence >= steps.count - 2,
              let block = steps.results[step.sequence % 2], block.byteCount >= step.rows * 4
        else {
            throw ComputeError.invalidBatch("launched step \(step.sequence) is not one of the last two")
        }
        try steps.drawn[step.sequence % 2].synchronize()
        return Array(UnsafeBufferPointer(start: block.pointer.assumingMemoryBound(to: Int32.self), count: step.rows))
    }
}
