import Compute
import Models

/// A decode step launched ahead whose drawn tokens the scheduler has not read yet.
struct PendingDecode {
    /// The step's requests, in batch order (row i drew `requests[i]`'s token).
    var requests: [ScheduledRequest]
    var step: LaunchedDecode
}

/// Overlap scheduling (SGLang's `event_loop_overlap`, spec §7.13): while the device runs decode step N, the
/// scheduler reads step N−1's tokens (finish checks, detokenizing, streaming) and launches step N+1, whose inputs
/// drawn by N are taken on the device. A request that ends at N (a stop token or string) has already been
/// launched into N+1: the KV N+1 writes for its last token goes to the cache with it, and the token N+1 draws for
/// it is dropped. An abort frees the slot of a token it never read. Requests whose next draw depends on the token in
/// flight (grammar, logprobs, penalties) and memory pressure fall back to the synchronous step; so do prefills.
extension Scheduler {
    /// One decode step launched ahead; reads the step launched before it afterwards.
    func runDecodeAhead() throws {
        // A request whose token in flight ends it by length sits this step out (known before reading it).
        let batchReqs = running.filter { req in
            req.carriedRow == nil || (req.outputCount + 1 < req.params.maxNewTokens && req.sequenceLength + 1 < contextLength)
        }
        var sampling: [DeviceSampling] = []
        sampling.reserveCapacity(batchReqs.count)
        for req in batchReqs {
            guard !req.request.returnLogprob, req.matcher == nil,
                  let s = req.sampler.deviceSampling(ahead: req.carriedRow == nil ? 0 : 1) else { break }
            sampling.append(s)
        }
        guard !batchReqs.isEmpty, sampling.count == batchReqs.count, ensureFree(batchReqs.count) else {
            // Read the step in flight, then the synchronous step (which evicts and retracts as memory needs).
            try drainPending()
            if !running.isEmpty { try runDecode() }
            return
        }
        newTokenRatio = max(newTokenRatio - tokenRatioDecay, minTokenRatio)
        let slots = try kvPool.alloc(batchReqs.count)
        var rows: [Int32] = [], prefixLens: [Int] = [], tokens: [[Int32]] = [], carried: [Int32] = []
        for req in batchReqs {
            guard let row = req.row else { continue }
            rows.append(Int32(row))
            prefixLens.append(req.kvLength)
            if let c = req.carriedRow {
                tokens.append([0])
                carried.append(Int32(c))
            } else {
                tokens.append([req.outputIds.last ?? 0])
                carried.append(-1)
            }
        }
        guard rows.count == batchReqs.count else {
            kvPool.free(slots)
            throw RuntimeError.invalidInput("a running request lost its KV row")
        }
        let batch = ForwardBatch(requests: rows, prefixLens: prefixLens, newTokens: tokens, slots: slots)
        let started = Self.now()
        let step = try model.model.launchDecode(batch, reqToToken: reqPool, kvPool: kvPool, sampling: sampling,
                                                carried: carried)
        stats.forwardSeconds += Self.now() - started
        stats.forwardPasses += 1
        stats.decodeSteps += 1
        stats.decodedRequests += batchReqs.count
        let previous = pending
        for req in previous?.requests ?? [] { req.carriedRow = nil }
        for (i, req) in batchReqs.enumerated() {
            req.kvLength += 1
            req.carriedRow = i
        }
        pending = PendingDecode(requests: batchReqs, step: step)
        if let previous { try read(previous) }
    }

    /// Reads the step in flight, if any, and processes its tokens.
    func drainPending() throws {
        guard let p = pending else { return }
        pending = nil
        for req in p.requests { req.carriedRow = nil }
        try read(p)
    }

    /// Waits for a launched step and appends its tokens; requests that ended meanwhile (aborted, or finished by
    /// the step before while this one was already launched) drop theirs.
    private func read(_ p: PendingDecode) throws {
        let started = Self.now()
        let ids = try model.model.drawnIds(p.step)
        stats.forwardSeconds += Self.now() - started
        guard ids.count == p.requests.count else {
            throw RuntimeError.invalidInput("a launched step drew \(ids.count) ids for \(p.requests.count) requests")
        }
        for (req, id) in zip(p.requests, ids) where req.finish == nil {
            appendSampled(req, token: Int(id))
            if req.finish != nil { finishRequest(req) }
        }
    }
}
