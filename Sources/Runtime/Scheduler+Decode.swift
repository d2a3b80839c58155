import Compute
import Models

extension Scheduler {
    /// One decode step over the running batch (spec §7.7): make room (evict, else retract), one token each.
    func runDecode() throws {
        if !ensureFree(running.count) {
            retract()
        } else {
            newTokenRatio = max(newTokenRatio - tokenRatioDecay, minTokenRatio)
        }
        guard !running.isEmpty else { return }
        if !ensureFree(running.count) {
            // A lone request that outgrew the whole KV cache: it ends at the length it reached.
            for req in running {
                req.finish = .length(req.outputCount)
                finishRequest(req)
            }
            return
        }
        let slots = try kvPool.alloc(running.count)
        var rows: [Int32] = []
        var prefixLens: [Int] = []
        var tokens: [[Int32]] = []
        for req in running {
            guard let row = req.row, let last = req.outputIds.last else { continue }
            rows.append(Int32(row))
            prefixLens.append(req.kvLength)
            tokens.append([last])
        }
        guard rows.count == running.count else {
            kvPool.free(slots)
            throw RuntimeError.invalidInput("a running request lost its KV row")
        }
        let batch = ForwardBatch(requests: rows, prefixLens: prefixLens, newTokens: tokens, slots: slots)
        // A device model picks tokens where the logits are. With device sampling every request without logprobs
        // or a grammar is drawn there, its bias and penalties applied as sparse edits (whatever its batch mates
        // need, so a seeded request does not depend on them), and only the others' logits come back; without it,
        // batches of plain argmax requests still stay on the device.
        let model = self.model.model
        var logits: Logits?
        var picked: [Int32?] = []
        let started = Self.now()
        if model.samplesOnDevice {
            (picked, logits) = try forwardSample(batch, sampling: running.map(deviceSampling))
        } else if model.selectsOnDevice && running.allSatisfy({
            !$0.request.returnLogprob && $0.matcher == nil && $0.sampler.nextIsPlainArgmax
        }) {
            picked = try model.forwardGreedy(batch, reqToToken: reqPool, kvPool: kvPool).map { $0 }
        } else {
            logits = try model.forward(batch, reqToToken: reqPool, kvPool: kvPool, logits: .lastPerRequest)
        }
        stats.forwardSeconds += Self.now() - started
        stats.forwardPasses += 1
        stats.decodeSteps += 1
        stats.decodedRequests += running.count
        let batchReqs = running
        running.removeAll(keepingCapacity: true)
        var hostRow = 0
        for (i, req) in batchReqs.enumerated() {
            req.kvLength += 1
            if i < picked.count, let id = picked[i] {
                appendSampled(req, token: Int(id))
            } else if let logits {
                sampleAndAppend(req, logits: logits, row: hostRow)
                hostRow += 1
            }
            if req.finish != nil {
                finishRequest(req)
            } else if !requeueIfJumped(req) {
                running.append(req)
            }
        }
    }

    /// How the device draws `req`'s next token: nil when the host must (logprobs, a grammar).
    func deviceSampling(_ req: ScheduledRequest) -> DeviceSampling? {
        req.request.returnLogprob || req.matcher != nil ? nil : req.sampler.nextDeviceSampling
    }

    /// A forward whose last row per request is drawn on the device (nil settings: that row's logits come back, in
    /// order, as the returned logits' rows).
    func forwardSample(_ batch: ForwardBatch, sampling: [DeviceSampling?]) throws -> ([Int32?], Logits?) {
        let result = try model.model.forwardSample(batch, reqToToken: reqPool, kvPool: kvPool, sampling: sampling)
        let undrawn = result.ids.filter { $0 == nil }.count
        guard result.ids.count == sampling.count, undrawn == (result.hostLogits?.rows ?? 0) else {
            throw RuntimeError.invalidInput("device sampling returned \(result.ids.count) ids and "
                + "\(result.hostLogits?.rows ?? 0) logit rows for \(sampling.count) requests")
        }
        return (result.ids, result.hostLogits)
    }

    /// Frees memory by sending running requests back to the queue (spec §7.7): the ones with the fewest
    /// output tokens and the longest prompts go first, until the rest can decode `retractDecodeSteps` steps.
    func retract() {
        running.sort { ($0.outputCount, -$0.promptLength) > ($1.outputCount, -$1.promptLength) }
        while running.count > 1 && kvPool.available + tree.evictableSize < running.count * Self.retractDecodeSteps {
            let victim = running.removeLast()
            victim.retractions += 1
            stats.retractions += 1
            requeue(victim)
        }
        _ = ensureFree(running.count)
        let decoded = running.reduce(0) { $0 + $1.outputCount }
        let budget = running.reduce(0) { $0 + $1.params.maxNewTokens }
        if budget > 0 {
            newTokenRatio = min(1, Double(decoded + Self.retractDecodeSteps * running.count) / Double(budget))
        }
    }

    /// Logprob entries for the prompt tokens predicted by the rows of an extend (row at position p predicts
    /// prompt token p + 1); with `logprob_start_len = 0` the first token gets a null entry.
    func collectInputLogprobs(_ req: ScheduledRequest, logits: Logits, firstRow: Int, positions: Range<Int>) {
        guard let start = req.inputLogprobStart else { return }
        let topK = req.request.topLogprobsNum
        if start == 0 && req.inputTokenLogprobs.isEmpty, let first = req.originIds.first {
            req.inputTokenLogprobs.append(LogprobEntry(logprob: nil, id: Int(first), text: tokenText(req, Int(first))))
            req.inputTopLogprobs.append(nil)
            req.inputTokenIdsLogprobs.append(nil)
        }
        for (k, p) in positions.enumerated() {
            let j = p + 1
            guard j < req.promptLength, j == req.nextInputLogprob else { continue }
            let token = Int(req.originIds[j])
            logits.values.withUnsafeBufferPointer { all in
                let row = UnsafeBufferPointer(rebasing: all[((firstRow + k) * logits.vocabSize)..<((firstRow + k + 1) * logits.vocabSize)])
                let logZ = Logprobs.logNormalizer(row)
                req.inputTokenLogprobs.append(
                    LogprobEntry(logprob: Double(row[token]) - logZ, id: token, text: tokenText(req, token)))
                req.inputTopLogprobs.append(topK > 0 ? topEntries(req, row: row, k: topK, logZ: logZ) : nil)
                req.inputTokenIdsLogprobs.append(idEntries(req, row: row, logZ: logZ))
            }
        }
    }

    func topEntries(_ req: ScheduledRequest, row: UnsafeBufferPointer<Float>, k: Int, logZ: Double) -> [LogprobEntry] {
        Logprobs.top(row, k: k, logNormalizer: logZ).map {
            LogprobEntry(logprob: $0.logprob, id: $0.id, text: tokenText(req, $0.id))
        }
    }

    /// The `token_ids_logprob` ids' entries of a row, nil when the request lists none.
    func idEntries(_ req: ScheduledRequest, row: UnsafeBufferPointer<Float>, logZ: Double) -> [LogprobEntry]? {
        req.request.tokenIdsLogprob.map { ids in
            ids.map { LogprobEntry(logprob: Double(row[$0]) - logZ, id: $0, text: tokenText(req, $0)) }
        }
    }

    func tokenText(_ req: ScheduledRequest, _ id: Int) -> String? {
        guard req.request.returnTextInLogprobs, let tokenizer = model.tokenizer else { return nil }
        return RequestOutputText.tokenText(id, tokenizer: tokenizer)
    }

    /// Samples the request's next token from logits row `row`, appends it and decides whether it finished.
    func sampleAndAppend(_ req: ScheduledRequest, logits: Logits, row: Int) {
        let original = logits.row(row)
        if req.request.returnLogprob {
            original.withUnsafeBufferPointer { raw in
                let logZ = Logprobs.logNormalizer(raw)
                req.pendingLogZ = logZ
                if req.request.topLogprobsNum > 0 {
                    req.outputTopLogprobs.append(topEntries(req, row: raw, k: req.request.topLogprobsNum, logZ: logZ))
                } else {
                    req.outputTopLogprobs.append(nil)
                }
                req.outputTokenIdsLogprobs.append(idEntries(req, row: raw, logZ: logZ))
            }
        }
        // The sampler rewrites its row in place: a scratch copy reused across requests and steps (the
        // scheduler is one thread), and likewise the grammar's allowed-token words.
        if sampleScratch.count != original.count { sampleScratch = [Float](repeating: 0, count: original.count) }
        sampleScratch.withUnsafeMutableBufferPointer { dst in
            original.withUnsafeBufferPointer { src in _ = dst.update(fromContentsOf: src) }
        }
        var masked = false
        if let matcher = req.matcher {
            let words = (vocabSize + 31) / 32
            if maskScratch.count != words { maskScratch = [UInt32](repeating: 0, count: words) }
            let gw = min(matcher.grammar.index.maskWords, words)
            // The token budget (this token included) ends at max_new_tokens or at the context's end.
            let budget = min(req.params.maxNewTokens - req.outputCount, contextLength - req.sequenceLength)
            maskScratch.withUnsafeMutableBufferPointer { buf in
                // Words past the grammar's index stay zero (disallowed) from the allocation.
                let words = UnsafeMutableBufferPointer(rebasing: buf[0..<gw])
                if options.disableGrammarTokenBudget {
                    matcher.fillMask(into: words)
                } else {
                    matcher.fillMask(into: words, remainingTokens: budget)
                }
            }
            masked = true
        }
        let token: Int = sampleScratch.withUnsafeMutableBufferPointer { buf in
            if masked {
                return maskScratch.withUnsafeBufferPointer { req.sampler.sample(buf, allowedMask: $0) }
            }
            return req.sampler.sample(buf, allowedMask: nil)
        }
        if req.request.returnLogprob {
            let lp = Double(original[original.startIndex + token]) - req.pendingLogZ
            req.outputTokenLogprobs.append(LogprobEntry(logprob: lp, id: token, text: tokenText(req, token)))
        }
        appendSampled(req, token: token)
    }

    /// Records a sampled token with the request's sampler and appends it.
    func appendSampled(_ req: ScheduledRequest, token: Int) {
        req.sampler.accept(token)
        req.sampledCount += 1
        append(req, tokens: [token])
    }

    /// Appends generated (or forced) tokens and sets `finish` when a stop condition holds (spec §7.3 order:
    /// length, stop token, stop string). `advanceMatcher: false` for jump-forward tokens, which the matcher
    /// already walked (accepting them twice would move it past text the output does not have).
    func append(_ req: ScheduledRequest, tokens: [Int], advanceMatcher: Bool = true) {
        stats.generatedTokens += tokens.count
        var matchedString: String?
        for token in tokens {
            req.appendOutput(Int32(token))
            if let text = req.outputText?.append([token]), matchedString == nil { matchedString = text }
            if req.finish != nil { continue }
            if req.outputCount >= req.params.maxNewTokens {
                req.finish = .length(req.params.maxNewTokens)
            } else if req.sequenceLength >= contextLength {
                req.finish = .length(req.outputCount)
            } else if !req.params.ignoreEOS && req.stopIds.contains(token) {
                req.finish = .matchedToken(token)
            } else if let s = matchedString {
                req.finish = .matchedString(s)
            }
            if advanceMatcher, req.finish == nil, var matcher = req.matcher {
                _ = matcher.accept(token)
                req.matcher = matcher
            }
        }
        if req.finish == nil { emit(req, final: false) }
    }

    /// Applies grammar jump-forward after a sampled token (spec §7.10): the forced text's tokens replace the
    /// tail of the output and the request re-enters the queue to prefill them (the cache keeps its prefix).
    /// Returns whether the request was requeued.
    func requeueIfJumped(_ req: ScheduledRequest) -> Bool {
        guard !options.disableRegexJumpForward, var matcher = req.matcher, let tokenizer = model.tokenizer,
              let jump = matcher.jumpForward(tokenizer: tokenizer) else { return false }
        req.matcher = matcher
        let keep = req.outputCount - jump.rollback
        guard keep >= 0 else { return false }
        // Drop the rolled-back tokens (their KV is released with the request) and append the forced ones.
        releaseFinished(req)
        req.removeLastOutputs(jump.rollback)
        if req.request.returnLogprob {
            // Re-tokenized tokens have no sampled distribution: logprobs cover the kept tokens only.
            let kept = min(keep, req.outputTokenLogprobs.count)
            req.outputTokenLogprobs.removeLast(req.outputTokenLogprobs.count - kept)
            req.outputTopLogprobs.removeLast(req.outputTopLogprobs.count - kept)
            req.outputTokenIdsLogprobs.removeLast(req.outputTokenIdsLogprobs.count - kept)
        }
        req.outputText?.reset(outputIds: req.outputIds.map(Int.init))
        for t in jump.tokens { req.sampler.accept(t) }
        append(req, tokens: jump.tokens, advanceMatcher: false)
        if req.finish != nil {
            finishRequest(req)
        } else {
            waiting.append(req)
        }
        return true
    }

    /// Ends a request that reached a stop condition: its KV goes to the cache, the stream gets the final output.
    func finishRequest(_ req: ScheduledRequest) {
        running.removeAll { $0 === req }
        if inflight === req { inflight = nil }
        releaseFinished(req)
        emit(req, final: true)
    }

    /// Sends the request's cumulative output: every `stream_interval` tokens while streaming, and at the end.
    func emit(_ req: ScheduledRequest, final: Bool) {
        if !final {
            guard req.request.stream else { return }
            let interval = req.params.streamInterval ?? options.streamInterval
            let count = req.outputCount
            guard count == 1 || count % interval == 0, count != req.lastEmittedCount else { return }
            req.lastEmittedCount = count
        }
        var out = GenerateOutput(rid: req.rid, promptTokens: req.promptLength)
        var ids = req.outputIds.map(Int.init)
        if final, case .matchedToken = req.finish, !req.params.noStopTrim, !ids.isEmpty { ids.removeLast() }
        out.outputIds = ids
        if let text = req.outputText {
            out.text = final ? text.finalText(for: req.finish ?? .length(0)) : text.streamableText
        }
        out.completionTokens = req.outputCount
        out.completionTokensWithoutJumpForward = req.sampledCount
        out.cachedTokens = req.cachedTokens
        out.retractions = req.retractions
        out.embedding = req.embedding
        if req.request.returnLogprob {
            out.inputTokenLogprobs = req.inputTokenLogprobs
            out.inputTopLogprobs = req.inputTopLogprobs
            out.outputTokenLogprobs = req.outputTokenLogprobs
            out.outputTopLogprobs = req.outputTopLogprobs
            if req.request.tokenIdsLogprob != nil {
                out.inputTokenIdsLogprobs = req.inputTokenIdsLogprobs
                out.outputTokenIdsLogprobs = req.outputTokenIdsLogprobs
            }
            let values = req.inputTokenLogprobs.compactMap(\.logprob)
            out.normalizedPromptLogprob = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }
        if final {
            out.finishReason = req.finish
            out.e2eLatency = Self.now() - req.arrival
            byRid[req.rid] = nil
            stats.finishedRequests += 1
            req.continuation.yield(out)
            req.continuation.finish()
        } else {
            req.continuation.yield(out)
        }
    }
}
