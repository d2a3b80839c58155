extension Scheduler {
    /// An embedding model's extend (spec §9.3): the forward returns each request's last final hidden state instead
    /// of logits; a request whose prompt is complete takes it, pooled, and finishes (its KV goes to the radix cache
    /// like any prompt's); the chunk of an unfinished prompt is cached and waits for the next chunk.
    func runEmbeddingExtend(_ batch: ExtendBatch) throws {
        let (forward, _, _) = try extendForward(batch)
        let started = Self.now()
        let hidden = try model.model.forwardHidden(forward, reqToToken: reqPool, kvPool: kvPool)
        stats.forwardSeconds += Self.now() - started
        stats.forwardPasses += 1
        for (i, (req, entrySlots)) in batch.entries.enumerated() {
            if i < batch.prefillCount { stats.prefilledTokens += entrySlots.count }
            req.kvLength += entrySlots.count
            if req === inflight {
                cacheUnfinished(req)
                continue
            }
            req.embedding = Engine.pool(hidden.row(i), dimensions: req.request.embeddingDimensions)
            req.finish = .length(0)
            finishRequest(req)
        }
    }
}
