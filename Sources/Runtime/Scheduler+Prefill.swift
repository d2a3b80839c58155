import Compute
import Models

/// One extend forward: new prompt tokens of admitted requests, plus running requests' decode tokens when
/// mixed chunking is on.
struct ExtendBatch {
    /// Requests and the KV slots of their new tokens (the tokens are `fillIds[kvLength ..< kvLength + slots.count]`).
    var entries: [(req: ScheduledRequest, slots: [Int32])] = []
    /// How many leading entries are prefills (the rest are mixed-in decode requests).
    var prefillCount = 0
}

extension Scheduler {
    /// KV slots promised to running requests for their future tokens (SGLang's reservation).
    func reservedTokens() -> Int {
        var total = 0.0
        for req in running {
            total += Double(min(req.remainingNewTokens, Self.outputReserveClip)) * newTokenRatio
        }
        return Int(total.rounded(.up))
    }

    /// The waiting queue in policy order (spec §7.8); refreshes each request's cached-prefix match.
    func orderedWaiting() -> [ScheduledRequest] {
        var policy = options.schedulePolicy
        if tree.disabled && (policy == .lpm || policy == .dfsWeight) { policy = .fcfs }
        if policy == .lpm && waiting.count > 128 { policy = .fcfs }
        switch policy {
        case .fcfs:
            return waiting.sorted { $0.arrival < $1.arrival }
        case .lof:
            return waiting.sorted { ($0.params.maxNewTokens, -$0.arrival) > ($1.params.maxNewTokens, -$1.arrival) }
        case .random:
            var shuffled = waiting
            shuffled.shuffle(using: &randomOrder)
            return shuffled
        case .lpm, .dfsWeight:
            for req in waiting {
                let (slots, node) = tree.matchPrefix(req.fillIds[..<matchLimit(req)])
                req.matchedLength = slots.count
                req.matchedNode = node
            }
            if policy == .lpm {
                return waiting.enumerated().sorted {
                    ($0.element.matchedLength, -$0.offset) > ($1.element.matchedLength, -$1.offset)
                }.map(\.element)
            }
            let order = tree.dfsWeightOrder(waiting.map { $0.matchedNode ?? tree.root })
            return order.map { waiting[$0] }
        }
    }

    static let inBatchPrefixThreshold = 32

    static func commonPrefix(_ a: [Int32], _ b: [Int32]) -> Int {
        var n = 0
        let limit = min(a.count, b.count)
        while n < limit && a[n] == b[n] { n += 1 }
        return n
    }

    /// The longest prefix a request may take from the cache: at least one token must be computed (its
    /// logits choose the next token), and prompt positions whose logprobs are wanted are recomputed.
    func matchLimit(_ req: ScheduledRequest) -> Int {
        var limit = req.fillIds.count - 1
        if req.wantsInputLogprobsFromStart, let start = req.inputLogprobStart {
            limit = min(limit, max(0, start - 1))
        }
        return max(0, limit)
    }

    /// Makes `n` slots free, evicting from the cache when needed.
    func ensureFree(_ n: Int) -> Bool {
        if kvPool.available < n { tree.evict(n - kvPool.available) }
        return kvPool.available >= n
    }

    /// Admits requests for one extend forward (SGLang's `PrefillAdder`, spec §7.5), or nil when none fits.
    func formPrefillBatch() -> ExtendBatch? {
        var batch = ExtendBatch()
        var remTotal = kvPool.available + tree.evictableSize - reservedTokens()
        var remInput = options.maxPrefillTokens
        var remChunk = chunkSize

        // The inflight chunked request continues first.
        if let req = inflight {
            let extend = min(req.fillIds.count - req.kvLength, remChunk)
            guard extend > 0, ensureFree(extend), let slots = try? kvPool.alloc(extend) else { return nil }
            batch.entries.append((req, slots))
            remTotal -= extend
            remInput -= extend
            remChunk -= extend
            if req.kvLength + extend < req.fillIds.count { return finishForming(batch, prefills: 1) }
            inflight = nil
        }

        for req in orderedWaiting() {
            if running.count + batch.entries.count >= maxRunningRequests { break }
            if remInput <= 0 || remChunk <= 0 || reqPool.available == 0 { break }
            let fill = req.fillIds
            let (prefixSlots, node) = tree.matchPrefix(fill[..<matchLimit(req)])
            let prefix = prefixSlots.count
            // In-batch prefix caching (SGLang's lpm): a request that shares a long prefix with one admitted in
            // this batch waits a round, so it reuses that request's KV instead of computing the prefix again.
            if options.schedulePolicy == .lpm, !tree.disabled, prefix < Self.inBatchPrefixThreshold,
               batch.entries.contains(where: { Self.commonPrefix($0.req.fillIds, fill) >= Self.inBatchPrefixThreshold }) {
                continue
            }
            var extend = fill.count - prefix
            let reserve = min(req.remainingNewTokens, Self.outputReserveClip)
            // Locking the matched path turns its evictable tokens into protected ones: they leave the budget.
            remTotal += tree.incLockRef(node)
            let nothingElse = batch.entries.isEmpty && self.running.isEmpty
            let fitsBudget = extend + reserve < remTotal || (nothingElse && extend <= remTotal)
            if !fitsBudget || (extend > remInput && !batch.entries.isEmpty) {
                remTotal += tree.decLockRef(node)
                break
            }
            var chunked = false
            if extend > remChunk {
                extend = remChunk
                chunked = true
            }
            guard ensureFree(extend), let row = try? reqPool.alloc() else {
                remTotal += tree.decLockRef(node)
                break
            }
            guard let slots = try? kvPool.alloc(extend) else {
                reqPool.free(row)
                remTotal += tree.decLockRef(node)
                break
            }
            if !prefixSlots.isEmpty { try? reqPool.write(row: row, start: 0, slots: prefixSlots) }
            req.row = row
            req.kvLength = prefix
            req.cachedPrefixLength = prefix
            req.lockedNode = node
            if req.outputIds.isEmpty && req.retractions == 0 {
                req.cachedTokens = prefix
                stats.promptTokens += req.promptLength
                stats.cachedTokens += prefix
            }
            waiting.removeAll { $0 === req }
            batch.entries.append((req, slots))
            remTotal -= extend + (chunked ? 0 : reserve)
            remInput -= extend
            remChunk -= extend
            if chunked {
                inflight = req
                break
            }
        }
        guard !batch.entries.isEmpty else { return nil }
        return finishForming(batch, prefills: batch.entries.count)
    }

    /// Adds the running decode requests to a prefill batch under `--enable-mixed-chunk`.
    private func finishForming(_ batch: ExtendBatch, prefills: Int) -> ExtendBatch {
        var batch = batch
        batch.prefillCount = prefills
        guard options.enableMixedChunk, pending == nil, !running.isEmpty, !batch.entries.contains(where: { $0.req.request.returnLogprob })
        else { return batch }
        guard ensureFree(running.count), let slots = try? kvPool.alloc(running.count) else { return batch }
        for (req, slot) in zip(running, slots) { batch.entries.append((req, [slot])) }
        running.removeAll()
        return batch
    }

    /// The forward of an extend batch, the logit rows it needs (every prompt row of a request that wants prompt
    /// logprobs, else its last row) and where each entry's rows start among them.
    func extendForward(_ batch: ExtendBatch) throws -> (forward: ForwardBatch, logitRows: [Int], firstRowOfEntry: [Int]) {
        var rows: [Int32] = []
        var prefixLens: [Int] = []
        var newTokens: [[Int32]] = []
        var slots: [Int32] = []
        var logitRows: [Int] = []
        var firstRowOfEntry: [Int] = []
        var tokenStart = 0
        for (req, entrySlots) in batch.entries {
            guard let row = req.row else { continue }
            let n = entrySlots.count
            rows.append(Int32(row))
            prefixLens.append(req.kvLength)
            newTokens.append(Array(req.fillIds[req.kvLength..<(req.kvLength + n)]))
            slots.append(contentsOf: entrySlots)
            firstRowOfEntry.append(logitRows.count)
            if req.wantsInputLogprobs {
                logitRows.append(contentsOf: tokenStart..<(tokenStart + n))
            } else {
                logitRows.append(tokenStart + n - 1)
            }
            tokenStart += n
        }
        var forward = ForwardBatch(requests: rows, prefixLens: prefixLens, newTokens: newTokens, slots: slots)
        forward.embeddingOverrides = try imageOverrides(batch)
        return (forward, logitRows, firstRowOfEntry)
    }

    /// Runs an extend forward and processes each request's result.
    func runExtend(_ batch: ExtendBatch) throws {
        if model.isEmbedding { return try runEmbeddingExtend(batch) }
        let (forward, logitRows, firstRowOfEntry) = try extendForward(batch)
        // With device sampling the first tokens are drawn where the logits are too (unless a request wants its
        // prompt's logprobs, which needs every row back): only the rows of requests with logprobs or a grammar
        // come back. The chunk of an unfinished prompt and prefill-only requests draw nothing (their argmax is
        // ignored).
        let onDevice = model.model.samplesOnDevice && !batch.entries.contains { $0.0.wantsInputLogprobs }
        var picked: [Int32?] = []
        let logits: Logits
        let started = Self.now()
        if onDevice {
            let settings = batch.entries.map { req, _ -> DeviceSampling? in
                req === inflight || (req.params.maxNewTokens == 0 && req.outputIds.isEmpty)
                    ? .argmax : deviceSampling(req)
            }
            let drawn: Logits?
            (picked, drawn) = try forwardSample(forward, sampling: settings)
            logits = drawn ?? Logits(rows: 0, vocabSize: vocabSize, values: [])
        } else {
            logits = try model.model.forward(forward, reqToToken: reqPool, kvPool: kvPool, logits: .rows(logitRows))
        }
        stats.forwardSeconds += Self.now() - started
        stats.forwardPasses += 1
        var hostRow = 0

        for (i, (req, entrySlots)) in batch.entries.enumerated() {
            let n = entrySlots.count
            let start = req.kvLength
            if i < batch.prefillCount { stats.prefilledTokens += n }
            let firstRow = firstRowOfEntry[i]
            let rowsOfEntry = req.wantsInputLogprobs ? n : 1
            if req.wantsInputLogprobs {
                collectInputLogprobs(req, logits: logits, firstRow: firstRow, positions: start..<(start + n))
            }
            req.kvLength += n
            if req === inflight { cacheUnfinished(req); continue }
            if req.params.maxNewTokens == 0 && req.outputIds.isEmpty {
                req.finish = .length(0)
                finishRequest(req)
                continue
            }
            if onDevice {
                if i < picked.count, let id = picked[i] {
                    appendSampled(req, token: Int(id))
                } else {
                    sampleAndAppend(req, logits: logits, row: hostRow)
                    hostRow += 1
                }
            } else {
                sampleAndAppend(req, logits: logits, row: firstRow + rowsOfEntry - 1)
            }
            if req.finish != nil {
                finishRequest(req)
            } else if !requeueIfJumped(req) {
                if i < batch.prefillCount { cacheUnfinished(req) }
                running.append(req)
            }
        }
    }

    /// Inserts a request's computed prefix into the cache and takes the canonical slots back (spec §7.2).
    func cacheUnfinished(_ req: ScheduledRequest) {
        guard let row = req.row, let node = req.lockedNode else { return }
        let tokens = Array(req.fillIds[..<req.kvLength])
        let slots = reqPool.slots(row: row, length: req.kvLength)
        let result = tree.cacheUnfinished(tokens: tokens, slots: slots, cachedPrefixLen: req.cachedPrefixLength,
                                          lockedNode: node)
        try? reqPool.write(row: row, start: 0, slots: result.slots)
        req.lockedNode = result.node
        if !tree.disabled { req.cachedPrefixLength = req.kvLength }
    }

    /// Gives a finished (or aborted) request's KV to the cache and frees its row.
    func releaseFinished(_ req: ScheduledRequest) {
        guard let row = req.row else { return }
        // The KV of a token still in flight (overlap scheduling) has no id here: its slot is freed, not cached (the
        // device writes it before any later step that takes the slot again).
        let known = min(req.kvLength, req.fillIds.count)
        if req.kvLength > known {
            kvPool.free(Array(reqPool.slots(row: row, length: req.kvLength)[known...]))
        }
        if let node = req.lockedNode {
            let slots = reqPool.slots(row: row, length: known)
            let tokens = Array(req.fillIds[..<known])
            tree.cacheFinished(tokens: tokens, slots: slots, cachedPrefixLen: req.cachedPrefixLength, lockedNode: node)
        }
        reqPool.free(row)
        req.row = nil
        req.lockedNode = nil
        req.kvLength = 0
        req.cachedPrefixLength = 0
    }

    /// Releases a running request's KV (cached for reuse) and puts it back in the waiting queue with its
    /// output kept; it resumes by prefilling prompt + output (retraction, jump-forward).
    func requeue(_ req: ScheduledRequest) {
        releaseFinished(req)
        waiting.append(req)
    }
}
