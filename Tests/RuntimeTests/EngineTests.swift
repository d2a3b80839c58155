import Compute
import Foundation
import Models
import Runtime
import Testing

/// The engine end to end on the tiny random-weight Llama of `../shared/fixtures/tiny/llama` (vocab 512): the
/// scheduler's batching, prefix cache, chunking, retraction, policies, logprobs and aborts, each checked against
/// single-request generation (`Generator`, a separate code path) or a direct forward.
@Suite(.serialized) struct EngineTests {
    static func tiny() throws -> LoadedModel { try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama")) }

    /// Runs a request to completion; returns every chunk (the last one is final).
    static func run(_ engine: Engine, _ request: GenerateRequest) async throws -> [GenerateOutput] {
        var chunks: [GenerateOutput] = []
        for try await out in engine.generate(request) { chunks.append(out) }
        return chunks
    }

    static func final(_ engine: Engine, _ request: GenerateRequest) async throws -> GenerateOutput {
        let chunks = try await run(engine, request)
        guard let last = chunks.last, last.isFinished else {
            Issue.record("request \(request.rid) ended without a final output")
            throw RuntimeError.invalidInput("no final output")
        }
        return last
    }

    struct Workload {
        var prompts: [[Int]] = []
        var maxNew: [Int] = []
    }

    /// Prompts of mixed lengths, many sharing one of a few prefixes (so the cache matters).
    static func workload(count: Int, seed: UInt64, maxPrompt: Int, maxNew: Int) -> Workload {
        var rng = SplitMix64(seed: seed)
        func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let prefixes = (0..<5).map { _ in (0..<(8 + below(40))).map { _ in below(512) } }
        var w = Workload()
        for _ in 0..<count {
            var prompt = below(3) == 0 ? [] : prefixes[below(prefixes.count)]
            prompt += (0..<(1 + below(maxPrompt))).map { _ in below(512) }
            w.prompts.append(prompt)
            w.maxNew.append(1 + below(maxNew))
        }
        return w
    }

    /// Low conservativeness reserves little KV for running requests' future tokens, so decode runs out of
    /// slots and must retract.
    static func options(policy: SchedulePolicy = .lpm, radix: Bool = true, chunk: Int? = 48, mixed: Bool = false) -> EngineOptions {
        EngineOptions(maxTotalTokens: 700, maxRunningRequests: 24, chunkedPrefillSize: chunk, schedulePolicy: policy,
                      disableRadixCache: !radix, enableMixedChunk: mixed, scheduleConservativeness: 0.05)
    }

    static let configurations: [(String, EngineOptions)] = [
        ("lpm", options()),
        ("fcfs", options(policy: .fcfs)),
        ("dfs-weight+mixed", options(policy: .dfsWeight, mixed: true)),
        ("no-radix", options(radix: false)),
        ("no-chunking", options(chunk: nil)),
    ]

    /// 200 concurrent greedy requests on a KV budget small enough to force eviction and retraction: every
    /// output equals the request generated alone, and afterwards every slot is free or evictable.
    @Test(arguments: configurations.indices)
    func concurrentGreedyRequestsMatchRunningAlone(configuration: Int) async throws {
        let (name, options) = Self.configurations[configuration]
        let loaded = try Self.tiny()
        let w = Self.workload(count: 200, seed: 11, maxPrompt: 90, maxNew: 40)
        let generator = Generator(model: loaded.model)
        var expected: [[Int]] = []
        for (prompt, n) in zip(w.prompts, w.maxNew) {
            expected.append(try generator.generate(promptIds: prompt, params: SamplingParams(temperature: 0),
                                                   maxNewTokens: n, ignoreEOS: true).outputIds)
        }
        let engine = try Engine(model: loaded, options: options)
        defer { engine.shutdown() }
        let outputs = try await withThrowingTaskGroup(of: (Int, GenerateOutput).self) { group in
            for i in w.prompts.indices {
                let request = GenerateRequest(
                    rid: "r\(i)", prompt: .ids(w.prompts[i]),
                    sampling: SamplingParams(maxNewTokens: w.maxNew[i], temperature: 0, ignoreEOS: true))
                group.addTask { (i, try await Self.final(engine, request)) }
            }
            var byIndex = [GenerateOutput?](repeating: nil, count: w.prompts.count)
            for try await (i, out) in group { byIndex[i] = out }
            return byIndex
        }
        var mismatches = 0
        for i in w.prompts.indices {
            guard let out = outputs[i] else { continue }
            if out.outputIds != expected[i] { mismatches += 1 }
            #expect(out.finishReason == .length(w.maxNew[i]), "\(name) r\(i)")
            #expect(out.promptTokens == w.prompts[i].count)
        }
        #expect(mismatches == 0, "\(name): \(mismatches) of 200 outputs differ from single-request generation")
        let stats = await engine.stats()
        // Without chunking, whole prompts queue for admission and the decode batch stays small enough to fit.
        if name != "no-chunking" { #expect(stats.retractions > 0, "\(name): the budget should force retractions") }
        #expect(stats.finishedRequests == 200)
        #expect(await engine.checkMemory() == nil)
        #expect(stats.availableTokens + stats.evictableTokens == stats.maxTotalTokens)
        if name == "no-radix" { #expect(stats.cachedTokens == 0) } else { #expect(stats.cachedTokens > 0) }
    }

    /// A second request sharing a 500-token prefix is served from the cache: cached_tokens ≥ 499 and only
    /// the rest is prefilled.
    @Test func prefixReuseReportsCachedTokens() async throws {
        let loaded = try Self.tiny()
        let engine = try Engine(model: loaded, options: EngineOptions(contextLength: 1024, maxTotalTokens: 4000))
        defer { engine.shutdown() }
        var rng = SplitMix64(seed: 5)
        let prefix = (0..<500).map { _ in Int(rng.next() % 512) }
        let first = try await Self.final(engine, GenerateRequest(
            rid: "a", prompt: .ids(prefix + [1, 2, 3]), sampling: SamplingParams(maxNewTokens: 4, temperature: 0)))
        #expect(first.cachedTokens == 0)
        let before = await engine.stats()
        let second = try await Self.final(engine, GenerateRequest(
            rid: "b", prompt: .ids(prefix + [7, 8, 9, 10]), sampling: SamplingParams(maxNewTokens: 4, temperature: 0)))
        let after = await engine.stats()
        #expect(second.cachedTokens >= 499)
        #expect(after.prefilledTokens - before.prefilledTokens == 504 - second.cachedTokens)
        // The cached answer equals a cold one (an engine without the cache).
        let coldEngine = try Engine(model: loaded, options: EngineOptions(contextLength: 1024, maxTotalTokens: 4000,
                                                                          disableRadixCache: true))
        defer { coldEngine.shutdown() }
        let cold = try await Self.final(coldEngine, GenerateRequest(
            rid: "b", prompt: .ids(prefix + [7, 8, 9, 10]), sampling: SamplingParams(maxNewTokens: 4, temperature: 0)))
        #expect(cold.cachedTokens == 0)
        #expect(second.outputIds == cold.outputIds)
        #expect(await engine.checkMemory() == nil)
    }

    /// Requests that arrive together and share a long prefix are not prefilled side by side: all but one
    /// wait a round and reuse the first one's KV (SGLang's in-batch prefix caching under lpm).
    @Test func burstSharingAPrefixReusesIt() async throws {
        let loaded = try Self.tiny()
        let engine = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 4000))
        defer { engine.shutdown() }
        var rng = SplitMix64(seed: 9)
        let prefix = (0..<100).map { _ in Int(rng.next() % 512) }
        let requests = (0..<4).map { i in
            GenerateRequest(rid: "burst\(i)", prompt: .ids(prefix + [i, i + 1]), sampling: SamplingParams(maxNewTokens: 3, temperature: 0))
        }
        let streams = requests.map { engine.generate($0) }
        var cached: [Int] = []
        for stream in streams {
            var last: GenerateOutput?
            for try await out in stream { last = out }
            cached.append(last?.cachedTokens ?? 0)
        }
        #expect(cached.filter { $0 >= 99 }.count >= 3, "cached tokens per request: \(cached)")
    }

    /// Log-softmax of every row of a forward over `ids` (independent of the engine's logprob code).
    static func teacherForcedLogprobs(_ model: any CausalModel, ids: [Int]) throws -> [[Double]] {
        let reqPool = ReqToTokenPool(maxRequests: 1, maxContext: ids.count + 1)
        let kv = try model.makeKVPool(size: ids.count + 2)
        let row = Int32(try reqPool.alloc())
        let logits = try model.forward(
            ForwardBatch(requests: [row], prefixLens: [0], newTokens: [ids.map(Int32.init)], slots: try kv.alloc(ids.count)),
            reqToToken: reqPool, kvPool: kv, logits: .all)
        return (0..<logits.rows).map { r in
            let values = logits.row(r).map(Double.init)
            let m = values.max() ?? 0
            let logZ = m + log(values.reduce(0) { $0 + exp($1 - m) })
            return values.map { $0 - logZ }
        }
    }

    /// Input and output logprobs with logprob_start_len 0, k and -1 equal a teacher-forced forward.
    @Test func logprobsMatchTeacherForcing() async throws {
        let loaded = try Self.tiny()
        let engine = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 2000, chunkedPrefillSize: 7))
        defer { engine.shutdown() }
        let prompt = [3, 77, 140, 9, 300, 41, 8, 255, 17, 60, 2, 99]
        for start in [0, 5, -1] {
            let out = try await Self.final(engine, GenerateRequest(
                rid: "lp\(start)", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 6, temperature: 0, ignoreEOS: true),
                returnLogprob: true, logprobStartLen: start, topLogprobsNum: 3))
            let reference = try Self.teacherForcedLogprobs(loaded.model, ids: prompt + out.outputIds)
            let input = out.inputTokenLogprobs ?? []
            if start < 0 {
                #expect(input.isEmpty)
            } else {
                #expect(input.count == prompt.count - start)
                for (k, entry) in input.enumerated() {
                    let j = start + k
                    #expect(entry.id == prompt[j])
                    if j == 0 {
                        #expect(entry.logprob == nil)
                    } else if let lp = entry.logprob {
                        #expect(abs(lp - reference[j - 1][prompt[j]]) < 1e-4)
                    } else {
                        Issue.record("prompt position \(j) has no logprob")
                    }
                }
                let tops = out.inputTopLogprobs ?? []
                #expect(tops.count == input.count)
                for (k, top) in tops.enumerated() where start + k > 0 {
                    let row = reference[start + k - 1]
                    let best = row.indices.max { row[$0] < row[$1] }
                    #expect(top?.count == 3)
                    #expect(top?.first?.id == best)
                }
            }
            let output = out.outputTokenLogprobs ?? []
            #expect(output.count == out.outputIds.count)
            for (t, entry) in output.enumerated() {
                let row = reference[prompt.count - 1 + t]
                #expect(entry.id == out.outputIds[t])
                #expect(abs((entry.logprob ?? 0) - row[entry.id]) < 1e-4)
                // Greedy: the chosen token is the most likely one.
                #expect(out.outputTopLogprobs?[t]?.first?.id == entry.id)
            }
        }
        #expect(await engine.checkMemory() == nil)
    }

    /// A seeded sampled request gives the same output alone and in a crowd of other requests, and parallel
    /// samples (n = 3) are reproducible and distinct.
    @Test func seededSamplingIsReproducibleAcrossBatches() async throws {
        let loaded = try Self.tiny()
        let engine = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 3000))
        defer { engine.shutdown() }
        let sampling = SamplingParams(maxNewTokens: 24, temperature: 1.3, topP: 0.95, ignoreEOS: true, seed: 7)
        let alone = try await Self.final(engine, GenerateRequest(rid: "alone", prompt: .ids([5, 6, 7]), sampling: sampling))
        let crowd = try await withThrowingTaskGroup(of: GenerateOutput?.self) { group in
            for i in 0..<12 {
                group.addTask {
                    let r = GenerateRequest(rid: "noise\(i)", prompt: .ids([i + 1, 40, 2 * i]),
                                            sampling: SamplingParams(maxNewTokens: 10 + i, temperature: 0.9, ignoreEOS: true))
                    _ = try await Self.final(engine, r)
                    return nil
                }
            }
            group.addTask { try await Self.final(engine, GenerateRequest(rid: "crowd", prompt: .ids([5, 6, 7]), sampling: sampling)) }
            var mine: GenerateOutput?
            for try await out in group { if let out { mine = out } }
            return mine
        }
        #expect(crowd?.outputIds == alone.outputIds)

        var parallel = sampling
        parallel.n = 3
        func samples() async throws -> [[Int]] {
            var result: [[Int]] = []
            for stream in try await engine.generateParallel(GenerateRequest(rid: "par", prompt: .ids([9, 9, 9]), sampling: parallel)) {
                var last: GenerateOutput?
                for try await out in stream { last = out }
                result.append(last?.outputIds ?? [])
                // The awaited prefill-only request cached the prompt for every sample.
                #expect((last?.cachedTokens ?? 0) >= 2)
            }
            return result
        }
        let a = try await samples()
        let b = try await samples()
        #expect(a.count == 3 && a == b)
        #expect(Set(a).count == 3)
        #expect(await engine.checkMemory() == nil)
    }

    /// Stop token ids end the request (trimmed from output_ids), max_new_tokens = 0 only prefills, streaming
    /// yields cumulative chunks, and aborts end waiting and running requests.
    @Test func stopsPrefillOnlyStreamingAndAbort() async throws {
        let loaded = try Self.tiny()
        let engine = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 2000))
        defer { engine.shutdown() }
        let prompt = [11, 12, 13, 14]
        let free = try await Self.final(engine, GenerateRequest(
            rid: "free", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 12, temperature: 0, ignoreEOS: true)))
        let stop = free.outputIds[3]
        let firstHit = free.outputIds.firstIndex(of: stop) ?? 3
        let stopped = try await Self.final(engine, GenerateRequest(
            rid: "stopped", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 12, stopTokenIds: [stop], temperature: 0)))
        #expect(stopped.finishReason == .matchedToken(stop))
        #expect(stopped.outputIds == Array(free.outputIds.prefix(firstHit)))
        #expect(stopped.completionTokens == firstHit + 1)

        let prefill = try await Self.final(engine, GenerateRequest(
            rid: "prefill", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 0), returnLogprob: true, logprobStartLen: 0))
        #expect(prefill.finishReason == .length(0))
        #expect(prefill.outputIds.isEmpty)
        #expect(prefill.inputTokenLogprobs?.count == prompt.count)

        let chunks = try await Self.run(engine, GenerateRequest(
            rid: "stream", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 12, temperature: 0, ignoreEOS: true),
            stream: true))
        #expect(chunks.count == 12)
        for (k, chunk) in chunks.enumerated() { #expect(chunk.outputIds == Array(free.outputIds.prefix(k + 1))) }

        // Abort: a long request is cut after its first chunk; a request aborted while it waits never runs.
        let long = engine.generate(GenerateRequest(
            rid: "long", prompt: .ids(prompt), sampling: SamplingParams(maxNewTokens: 200, temperature: 0, ignoreEOS: true),
            stream: true))
        var last: GenerateOutput?
        for try await out in long {
            if last == nil { engine.abort(rid: "long") }
            last = out
        }
        #expect(last?.finishReason?.type == "abort")
        #expect((last?.outputIds.count ?? 200) < 200)
        #expect(await engine.checkMemory() == nil)
    }

    /// Bad requests fail with a clear error and the engine keeps serving.
    @Test func invalidRequestsAreRejected() async throws {
        let loaded = try Self.tiny()
        let engine = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 500))
        defer { engine.shutdown() }
        let bad: [GenerateRequest] = [
            GenerateRequest(rid: "empty", prompt: .ids([])),
            GenerateRequest(rid: "vocab", prompt: .ids([1, 512])),
            GenerateRequest(rid: "long", prompt: .ids(Array(repeating: 1, count: 600))),
            GenerateRequest(rid: "temp", prompt: .ids([1]), sampling: SamplingParams(temperature: -1)),
            GenerateRequest(rid: "topk", prompt: .ids([1]), sampling: SamplingParams(topK: 0)),
            GenerateRequest(rid: "minnew", prompt: .ids([1]), sampling: SamplingParams(maxNewTokens: 2, minNewTokens: 3)),
            GenerateRequest(rid: "text", prompt: .text("no tokenizer")),
        ]
        for request in bad {
            await #expect(throws: RuntimeError.self, "\(request.rid)") { _ = try await Self.run(engine, request) }
        }
        let ok = try await Self.final(engine, GenerateRequest(rid: "ok", prompt: .ids([1, 2]),
                                                             sampling: SamplingParams(maxNewTokens: 3, temperature: 0)))
        #expect(ok.completionTokens >= 1)
        #expect(await engine.checkMemory() == nil)
    }
}

/// Requests at the edges of the KV cache's capacity finish instead of stalling the engine.
@Suite struct EngineCapacityTests {
    @Test func requestsLargerThanTheCacheEndCleanly() async throws {
        let loaded = try EngineTests.tiny()
        let engine = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 64))
        defer { engine.shutdown() }
        // 60 prompt tokens fit; the output can only grow until the cache is full.
        let big = try await EngineTests.final(engine, GenerateRequest(
            rid: "big", prompt: .ids(Array(repeating: 3, count: 60)),
            sampling: SamplingParams(maxNewTokens: 100, temperature: 0, ignoreEOS: true)))
        #expect(big.finishReason?.type == "length")
        #expect(big.completionTokens >= 1 && big.completionTokens <= 5)
        // Prompts beyond the cache are rejected up front.
        await #expect(throws: RuntimeError.self) {
            _ = try await EngineTests.run(engine, GenerateRequest(rid: "huge", prompt: .ids(Array(repeating: 3, count: 64))))
        }
        let small = try await EngineTests.final(engine, GenerateRequest(
            rid: "small", prompt: .ids([1, 2, 3]), sampling: SamplingParams(maxNewTokens: 4, temperature: 0, ignoreEOS: true)))
        #expect(small.outputIds.count == 4)
        #expect(await engine.checkMemory() == nil)
    }
}
