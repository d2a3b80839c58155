import CUDAModels
import Compute
import Foundation
import Models
import Synchronization
@testable import Runtime
import Testing

/// `--device` / `--dtype` parsing, the CUDA path's clear errors on a machine without a GPU, SGLang's graph
/// batch sizes, and the scheduler's on-device argmax path (driven through a real model that picks on "device").
@Suite struct DeviceSelectionTests {
    @Test func parsesDeviceAndDType() throws {
        let cuda = try DeviceSelection(device: "cuda", dtype: "float32", disableCUDAGraph: true, cudaGraphMaxBatchSize: 8)
        #expect(cuda.kind == .cuda && cuda.cudaDType == .float32)
        #expect(cuda.cudaOptions.disableCUDAGraph && cuda.cudaOptions.cudaGraphMaxBatchSize == 8)
        #expect(try DeviceSelection(device: "auto", dtype: "auto").cudaDType == .bfloat16)
        #expect(try DeviceSelection(device: "cpu", dtype: "bfloat16").resolved == .cpu)
        for (device, dtype, graphs) in [("tpu", "auto", 160), ("cuda", "float16", 160), ("cuda", "auto", 0)] {
            #expect(throws: RuntimeError.self) {
                try DeviceSelection(device: device, dtype: dtype, cudaGraphMaxBatchSize: graphs)
            }
        }
    }

    /// `--tp-size` and `--base-gpu-id` reach the CUDA options; impossible values and tensor parallelism on the
    /// CPU are clear errors naming the flag, at parse time and when loading with `auto` on a machine without GPUs.
    @Test func parsesTensorParallelism() throws {
        let tp = try DeviceSelection(device: "cuda", dtype: "auto", tensorParallelSize: 2, baseGPUId: 1)
        #expect(tp.cudaOptions.tensorParallelSize == 2 && tp.cudaOptions.deviceOrdinal == 1)
        #expect(try DeviceSelection(device: "auto", dtype: "auto").cudaOptions.tensorParallelSize == 1)
        for (device, size, base, flag) in [("cuda", 0, 0, "--tp-size"), ("cuda", 1, -1, "--base-gpu-id"),
                                           ("cpu", 2, 0, "--tp-size 2")] {
            #expect {
                try DeviceSelection(device: device, dtype: "auto", tensorParallelSize: size, baseGPUId: base)
            } throws: { "\($0)".contains(flag) }
        }
        guard try DeviceSelection(device: "auto", dtype: "auto").resolved == .cpu else { return }
        #expect {
            try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"),
                                 device: DeviceSelection(kind: .auto, tensorParallelSize: 2))
        } throws: { "\($0)".contains("--tp-size 2") && "\($0)".contains("CUDA") }
    }

    @Test func graphBatchSizesFollowSGLang() {
        // [1, 2, 4, 8, 12] + 16..256 step 8 + 272..<512 step 16 + 512..max step 32 (spec §7.12).
        let sizes = CUDAModelOptions.graphBatchSizes(upTo: 600)
        var expected = [1, 2, 4, 8, 12]
        var b = 16
        while b <= 256 { expected.append(b); b += 8 }
        b = 272
        while b < 512 { expected.append(b); b += 16 }
        b = 512
        while b <= 600 { expected.append(b); b += 32 }
        #expect(sizes == expected)
        #expect(CUDAModelOptions.graphBatchSizes(upTo: 160).last == 160)
        #expect(CUDAModelOptions.graphBatchSizes(upTo: 3) == [1, 2])
    }

    /// Without a GPU driver the CUDA model fails at load with an error that names the library, and `auto`
    /// falls back to the CPU.
    @Test func cudaWithoutDriverIsAClearError() throws {
        let folder = try RuntimeFixtures.shared("tiny/llama")
        // On a GPU machine this test has nothing to check.
        guard try DeviceSelection(device: "auto", dtype: "auto").resolved == .cpu else { return }
        do {
            _ = try ModelLoader.load(path: folder, device: DeviceSelection(kind: .cuda))
            Issue.record("loading on CUDA without a GPU succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("libcuda") || text.contains("CUDA"), "unclear error: \(text)")
        }
        let auto = try ModelLoader.load(path: folder, device: DeviceSelection(kind: .auto))
        #expect(auto.model.deviceName == "cpu")
    }

    /// The tiny llama on the host (`reference`) and wrapped as a device model (`engine`), each in an engine.
    static func engines(samples: Bool) throws -> (loaded: LoadedModel, device: DeviceModel, reference: Engine, engine: Engine) {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"))
        guard let cpu = loaded.model as? CausalLM else { throw RuntimeError.invalidInput("not a CPU model") }
        let device = DeviceModel(cpu, samples: samples)
        let wrapped = LoadedModel(config: loaded.config, model: device, generationConfig: loaded.generationConfig,
                                  tokenizer: loaded.tokenizer)
        let options = EngineOptions(maxTotalTokens: 600, maxRunningRequests: 8)
        return (loaded, device, try Engine(model: loaded, options: options), try Engine(model: wrapped, options: options))
    }

    @Test func schedulerPicksOnDeviceForPlainGreedyBatches() async throws {
        let (_, device, reference, engine) = try Self.engines(samples: false)
        defer {
            reference.shutdown()
            engine.shutdown()
        }
        let prompts: [[Int]] = [[1, 5, 9, 200, 31], [7, 7, 7], [400, 3, 2, 1, 0, 99, 12]]
        // Greedy requests, one with a repetition penalty (which must go through the host sampler).
        let params = [SamplingParams(maxNewTokens: 12, temperature: 0, ignoreEOS: true),
                      SamplingParams(maxNewTokens: 12, temperature: 0, repetitionPenalty: 1.3, ignoreEOS: true)]
        for p in params {
            let outs = try await withThrowingTaskGroup(of: (Int, [Int], [Int]).self) { group in
                for (i, prompt) in prompts.enumerated() {
                    group.addTask {
                        let a = try await EngineTests.final(reference, GenerateRequest(rid: "r\(i)", prompt: .ids(prompt), sampling: p))
                        let b = try await EngineTests.final(engine, GenerateRequest(rid: "d\(i)", prompt: .ids(prompt), sampling: p))
                        return (i, a.outputIds, b.outputIds)
                    }
                }
                var all: [(Int, [Int], [Int])] = []
                for try await r in group { all.append(r) }
                return all
            }
            for (i, a, b) in outs {
                #expect(a.count == 12 && a == b, "prompt \(i), repetition penalty \(p.repetitionPenalty): \(a) vs \(b)")
            }
        }
        #expect(device.greedyCalls.load(ordering: .relaxed) > 0, "the argmax-only path was never taken")
    }

    /// A real model that claims to pick tokens on its device: the argmax (`forwardGreedy`, counted) and, with
    /// `samples`, draws from the settings the scheduler hands it (SGLang's filters, a uniform from a hash of
    /// (seed, step)), recording what it was asked and how many rows went back to the host.
    final class DeviceModel: CausalModel, @unchecked Sendable {
        let base: CausalLM
        let samples: Bool
        let greedyCalls = Atomic<Int>(0)
        let calls = Mutex<[DeviceSampling]>([])
        let hostRows = Atomic<Int>(0)
        /// With `ahead`, decode steps are "launched" like a GPU's: computed at once, read later by sequence number,
        /// carried inputs taken from the previous launch's ids as `sgl_take_carried` does.
        let ahead: Bool
        let launches = Mutex<(count: Int, results: [Int: [Int32]], last: [Int32], carried: Int)>((0, [:], [], 0))
        init(_ base: CausalLM, samples: Bool, ahead: Bool = false) {
            self.base = base
            self.samples = samples
            self.ahead = ahead
        }
        var launchesAhead: Bool { ahead }
        /// When set, the launch with this sequence number signals `reached` and waits for `resume` (a test acts
        /// while the scheduler is inside it).
        let pauseAt = Mutex<Int?>(nil)
        let reached = DispatchSemaphore(value: 0)
        let resume = DispatchSemaphore(value: 0)
        func launchDecode(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                          sampling: [DeviceSampling], carried: [Int32]) throws -> LaunchedDecode {
            if let at = pauseAt.withLock({ $0 }), launches.withLock({ $0.count }) == at {
                reached.signal()
                resume.wait()
            }
            var batch = batch
            let last = launches.withLock { $0.last }
            for (i, c) in carried.enumerated() where c >= 0 {
                guard Int(c) < last.count else { throw RuntimeError.invalidInput("carried row \(c) of \(last.count)") }
                batch.inputIds[batch.extendStartLoc[i]] = last[Int(c)]
            }
            let ids = try forwardSample(batch, reqToToken: reqToToken, kvPool: kvPool, sampling: sampling).ids.compactMap { $0 }
            return launches.withLock { l in
                defer { l.count += 1 }
                l.results[l.count] = ids
                l.last = ids
                l.carried += carried.filter { $0 >= 0 }.count
                return LaunchedDecode(sequence: l.count, rows: ids.count)
            }
        }
        func drawnIds(_ step: LaunchedDecode) throws -> [Int32] {
            guard let ids = launches.withLock({ $0.results.removeValue(forKey: step.sequence) }) else {
                throw RuntimeError.invalidInput("step \(step.sequence) read twice or never launched")
            }
            return ids
        }
        var config: ModelConfig { base.config }
        var deviceName: String { "test-device" }
        var selectsOnDevice: Bool { true }
        var samplesOnDevice: Bool { samples }
        func kvCapacity(memFractionStatic fraction: Double) throws -> Int? { nil }
        func makeKVPool(size: Int) throws -> TokenToKVPool { base.makeKVPool(size: size) }
        func forward(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                     logits selection: LogitsSelection) throws -> Logits {
            try base.forward(batch, reqToToken: reqToToken, kvPool: kvPool, logits: selection)
        }
        func forwardHidden(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> HiddenStates {
            try base.forwardHidden(batch, reqToToken: reqToToken, kvPool: kvPool)
        }
        func forwardGreedy(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> [Int32] {
            greedyCalls.add(1, ordering: .relaxed)
            let logits = try base.forward(batch, reqToToken: reqToToken, kvPool: kvPool, logits: .lastPerRequest)
            return (0..<logits.rows).map { Int32(logits.argmax($0)) }
        }
        func forwardSample(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                           sampling: [DeviceSampling?]) throws -> DeviceSampleResult {
            calls.withLock { $0 += sampling.compactMap { $0 } }
            let logits = try base.forward(batch, reqToToken: reqToToken, kvPool: kvPool, logits: .lastPerRequest)
            let ids = sampling.enumerated().map { r, s in
                s.map { s in
                    var row = Array(logits.row(r))
                    row.withUnsafeMutableBufferPointer { s.applyEdits(to: $0) }
                    return Int32(Self.draw(row, s))
                }
            }
            let host = sampling.indices.filter { sampling[$0] == nil }
            hostRows.add(host.count, ordering: .relaxed)
            let values = host.flatMap { Array(logits.row($0)) }
            return DeviceSampleResult(ids: ids, hostLogits: host.isEmpty ? nil
                : Logits(rows: host.count, vocabSize: logits.vocabSize, values: values))
        }

        /// softmax(l / T) → top-k → top-p → min-p → draw (temperature ≤ 0: argmax).
        static func draw(_ l: [Float], _ s: DeviceSampling) -> Int {
            guard s.temperature > 0 else { return l.indices.max { l[$0] < l[$1] || (l[$0] == l[$1] && $0 > $1) } ?? 0 }
            let m = l.max() ?? 0
            let p = l.map { Double(exp(($0 - m) / s.temperature)) }
            let order = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
            let total = p.reduce(0, +)
            var kept = s.topK > 0 ? Array(order.prefix(Int(s.topK))) : order
            var mass = 0.0, cut = kept.count
            for (i, id) in kept.enumerated() {
                mass += p[id] / total
                if mass >= Double(s.topP) { cut = i + 1; break }
            }
            kept = Array(kept.prefix(cut)).filter { p[$0] >= Double(s.minP) * p[order[0]] }
            var h = s.seed ^ (s.step &* 0x9E37_79B9_7F4A_7C15)
            h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
            let u = Double((h ^ (h >> 29)) >> 11) * 0x1.0p-53 * kept.reduce(0) { $0 + p[$1] }
            var acc = 0.0
            for id in kept {
                acc += p[id]
                if u < acc { return id }
            }
            return kept.last ?? order[0]
        }
    }

    /// Non-greedy requests go through the model's draw with their own settings and step counter; a request
    /// with a penalty is drawn there too, its penalty as edits; one that wants logprobs keeps the host sampler;
    /// seeded outputs do not depend on the rest of the batch.
    @Test func schedulerDrawsOnDeviceUnlessLogprobsAreWanted() async throws {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"))
        guard let cpu = loaded.model as? CausalLM else { throw RuntimeError.invalidInput("not a CPU model") }
        let device = DeviceModel(cpu, samples: true)
        let wrapped = LoadedModel(config: loaded.config, model: device, generationConfig: loaded.generationConfig,
                                  tokenizer: loaded.tokenizer)
        let engine = try Engine(model: wrapped, options: EngineOptions(maxTotalTokens: 600, maxRunningRequests: 8))
        defer { engine.shutdown() }
        let filtered = SamplingParams(maxNewTokens: 8, temperature: 0.8, topP: 0.9, topK: 20, minP: 0.05,
                                      ignoreEOS: true, seed: 42)
        let prompt: [Int] = [1, 5, 9, 200, 31]
        let alone = try await EngineTests.final(engine, GenerateRequest(rid: "alone", prompt: .ids(prompt), sampling: filtered))
        let asked = device.calls.withLock { $0 }
        #expect(!asked.isEmpty, "no decode step drew on the device")
        #expect(asked.allSatisfy { $0.temperature == 0.8 && $0.topK == 20 && abs($0.topP - 0.9) < 1e-6 && abs($0.minP - 0.05) < 1e-6 })
        // Every output token is drawn on the device, the first one by the prefill: steps 0 ..< 8, in order.
        #expect(asked.map(\.step) == (0..<8).map { UInt64($0) })
        #expect(device.hostRows.load(ordering: .relaxed) == 0)

        // The same seeded request next to others (one greedy, one with a penalty, both drawn on the device too, and
        // one that wants logprobs, whose rows go to the host sampler) gives the same tokens.
        async let together = EngineTests.final(engine, GenerateRequest(rid: "together", prompt: .ids(prompt), sampling: filtered))
        async let greedy = EngineTests.final(engine, GenerateRequest(
            rid: "greedy", prompt: .ids([7, 7, 7]), sampling: SamplingParams(maxNewTokens: 8, temperature: 0, ignoreEOS: true)))
        async let penalized = EngineTests.final(engine, GenerateRequest(
            rid: "penalized", prompt: .ids([400, 3, 2]),
            sampling: SamplingParams(maxNewTokens: 8, temperature: 0.8, frequencyPenalty: 0.5, ignoreEOS: true, seed: 7)))
        async let logprobs = EngineTests.final(engine, GenerateRequest(
            rid: "logprobs", prompt: .ids([9, 8, 7]), sampling: SamplingParams(maxNewTokens: 8, temperature: 0.8, ignoreEOS: true),
            returnLogprob: true))
        let (t, g, pz, lp) = try await (together, greedy, penalized, logprobs)
        #expect(g.outputIds.count == 8 && pz.outputIds.count == 8 && lp.outputIds.count == 8)
        #expect(t.outputIds == alone.outputIds, "\(t.outputIds) vs \(alone.outputIds)")
        // The logprob request's rows (its prefill's and its 7 decode steps') all went to the host.
        #expect(device.hostRows.load(ordering: .relaxed) == 8, "host rows: \(device.hostRows.load(ordering: .relaxed))")
        // The penalized request's draws carried its frequency penalty: 0.5 per earlier output of each id, summing
        // to 0.5 per output token before the step.
        let penalizedDraws = device.calls.withLock { $0 }.filter { $0.temperature == 0.8 && $0.topK == 0 && !$0.edits.isEmpty }
        #expect(!penalizedDraws.isEmpty)
        for d in penalizedDraws {
            let total = d.edits.reduce(Float(0)) { $0 + $1.penalty }
            #expect(abs(total - 0.5 * Float(d.step)) < 1e-5 && d.edits.allSatisfy { $0.bias == 0 && $0.repetition == 1 })
        }
    }

    /// A prompt prefilled in chunks draws only once its last chunk is in (the chunks before ask for nothing but an
    /// ignored argmax) and gives the tokens of an unchunked prefill; a request that wants its prompt's logprobs
    /// sends its prefill's rows to the host and gets every prompt logprob.
    @Test func chunkedAndPromptLogprobPrefillsDrawLikeWholeOnes() async throws {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"))
        guard let cpu = loaded.model as? CausalLM else { throw RuntimeError.invalidInput("not a CPU model") }
        let prompt: [Int] = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26, 43]
        let params = SamplingParams(maxNewTokens: 6, temperature: 0.9, topP: 0.95, ignoreEOS: true, seed: 11)
        var outputs: [[Int]] = []
        for chunk in [0, 4] {
            let device = DeviceModel(cpu, samples: true)
            let wrapped = LoadedModel(config: loaded.config, model: device, generationConfig: loaded.generationConfig,
                                      tokenizer: loaded.tokenizer)
            let engine = try Engine(model: wrapped, options: EngineOptions(maxTotalTokens: 600, chunkedPrefillSize: chunk))
            defer { engine.shutdown() }
            let out = try await EngineTests.final(engine, GenerateRequest(rid: "c\(chunk)", prompt: .ids(prompt), sampling: params))
            outputs.append(out.outputIds)
            let draws = device.calls.withLock { $0 }.filter { $0.temperature > 0 }
            #expect(draws.map(\.step) == (0..<6).map { UInt64($0) }, "chunk \(chunk): \(draws.map(\.step))")
            #expect(device.hostRows.load(ordering: .relaxed) == 0)
            if chunk == 4 {
                // Three argmax-only rows for the chunks before the last.
                #expect(device.calls.withLock { $0 }.filter { $0.temperature == 0 }.count == 3)
                let withLogprobs = try await EngineTests.final(engine, GenerateRequest(
                    rid: "lp", prompt: .ids(prompt), sampling: params, returnLogprob: true, logprobStartLen: 0))
                #expect(withLogprobs.outputIds.count == 6)
                #expect(withLogprobs.inputTokenLogprobs?.count == prompt.count)
                #expect(device.hostRows.load(ordering: .relaxed) == 6)
            }
        }
        #expect(outputs[0] == outputs[1] && outputs[0].count == 6)
    }

    /// Greedy requests with logit bias, penalties and min_new_tokens, drawn on the "device" from the sparse edits
    /// the scheduler hands over, give the host sampler's tokens (also at a temperature, greedy through top_k = 1,
    /// where the edits see `logits / T`).
    @Test func deviceEditsReproduceTheHostPenalties() async throws {
        let (loaded, device, reference, engine) = try Self.engines(samples: true)
        defer {
            reference.shutdown()
            engine.shutdown()
        }
        let eos = loaded.config.eosTokenIds.first ?? 2
        let params = [
            SamplingParams(maxNewTokens: 16, temperature: 0, repetitionPenalty: 1.3, ignoreEOS: true),
            SamplingParams(maxNewTokens: 16, temperature: 0, frequencyPenalty: 0.7, presencePenalty: 0.4, ignoreEOS: true),
            SamplingParams(maxNewTokens: 16, temperature: 0.5, topK: 1, frequencyPenalty: 1.1, repetitionPenalty: 1.2,
                           logitBias: [17: 2.5, 300: -1.5, 42: 0.75]),
            SamplingParams(maxNewTokens: 16, minNewTokens: 10, stopTokenIds: [eos, 5], temperature: 0,
                           logitBias: [eos: 50, 5: 40]),
        ]
        let prompts: [[Int]] = [[1, 5, 9, 200, 31], [7, 7, 7, 7], [400, 3, 2, 1, 0, 99, 12]]
        for (k, p) in params.enumerated() {
            for (i, prompt) in prompts.enumerated() {
                let a = try await EngineTests.final(reference, GenerateRequest(rid: "r\(k)-\(i)", prompt: .ids(prompt), sampling: p))
                let b = try await EngineTests.final(engine, GenerateRequest(rid: "d\(k)-\(i)", prompt: .ids(prompt), sampling: p))
                #expect(!a.outputIds.isEmpty && a.outputIds == b.outputIds, "params \(k), prompt \(i): \(a.outputIds) vs \(b.outputIds)")
            }
        }
        // The last set forces the stop ids once min_new_tokens is reached: the host ends there too.
        let masked = device.calls.withLock { $0 }.filter { $0.edits.contains { $0.masked } }
        #expect(!masked.isEmpty, "no draw carried the min_new_tokens mask")
        #expect(device.hostRows.load(ordering: .relaxed) == 0)
    }
}

