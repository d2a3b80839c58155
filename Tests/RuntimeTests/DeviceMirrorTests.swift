import Compute
import Models
@testable import Runtime
import Testing

/// A device backend reads its own copy of the request→token table: it copies what
/// `ReqToTokenPool.takeWrittenRanges()` reports before each forward and records each forward's new slots
/// itself. `MirroredModel` runs the real CPU model over such a copy, so a scheduler edit the copy misses
/// reads the wrong KV — as the GPU did when the radix cache swapped a request's own slots for the canonical
/// ones after its prefill (the freed slots went to the next tokens) — and shows up as other tokens than the
/// CPU engine's.
@Suite struct DeviceMirrorTests {
    final class MirroredModel: CausalModel, @unchecked Sendable {
        let base: CausalLM
        init(_ base: CausalLM) { self.base = base }
        var config: ModelConfig { base.config }
        var deviceName: String { "test-mirror" }
        func kvCapacity(memFractionStatic fraction: Double) throws -> Int? { nil }
        func makeKVPool(size: Int) throws -> TokenToKVPool { base.makeKVPool(size: size) }

        func forward(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                     logits selection: LogitsSelection) throws -> Logits {
            // The CPU model records the new slots in the mirror and attends through it.
            try base.forward(batch, reqToToken: try syncMirror(batch, reqToToken), kvPool: kvPool, logits: selection)
        }

        func forwardHidden(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> HiddenStates {
            try base.forwardHidden(batch, reqToToken: try syncMirror(batch, reqToToken), kvPool: kvPool)
        }

        /// Copies the host table's written rows into the "device" table, as a device model does.
        private func syncMirror(_ batch: ForwardBatch, _ reqToToken: ReqToTokenPool) throws -> ReqToTokenPool {
            let mirror = (reqToToken.deviceMirror as? ReqToTokenPool)
                ?? ReqToTokenPool(maxRequests: reqToToken.maxRequests, maxContext: reqToToken.maxContext)
            reqToToken.deviceMirror = mirror
            for (row, positions) in reqToToken.takeWrittenRanges() {
                let slots = reqToToken.slots(row: row, length: positions.upperBound)
                try mirror.write(row: row, start: positions.lowerBound, slots: Array(slots[positions]))
            }
            try reqToToken.record(batch)
            return mirror
        }
    }

    @Test func writtenRangesMergePerRowAndLeaveRecordsOut() throws {
        let pool = ReqToTokenPool(maxRequests: 4, maxContext: 16)
        try pool.write(row: 2, start: 3, slots: [7, 8])
        try pool.write(row: 2, start: 0, slots: [1])
        try pool.write(row: 0, start: 5, slots: [])
        try pool.record(ForwardBatch(requests: [1], prefixLens: [0], newTokens: [[4, 4]], slots: [9, 10]))
        let taken = pool.takeWrittenRanges()
        #expect(taken.map(\.row) == [2] && taken.map(\.positions) == [0..<5])
        #expect(pool.slots(row: 1, length: 2) == [9, 10] && pool.slots(row: 2, length: 5) == [1, 0, 0, 7, 8])
        #expect(pool.takeWrittenRanges().isEmpty)
    }

    /// Prompts sharing a long prefix, one at a time, then the same prompts at once (whole prompts cached, and
    /// requests in one batch inserting the same tokens), then the first again: every output equals the CPU
    /// engine's for the same prompt.
    @Test func radixCacheHitsReadTheRightKVThroughTheMirror() async throws {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"))
        guard let cpu = loaded.model as? CausalLM else { throw RuntimeError.invalidInput("not a CPU model") }
        let wrapped = LoadedModel(config: loaded.config, model: MirroredModel(cpu),
                                  generationConfig: loaded.generationConfig, tokenizer: loaded.tokenizer)
        let options = EngineOptions(maxTotalTokens: 2000, maxRunningRequests: 16)
        let reference = try Engine(model: loaded, options: options)
        let engine = try Engine(model: wrapped, options: options)
        defer {
            reference.shutdown()
            engine.shutdown()
        }
        let shared = (0..<24).map { ($0 * 37 + 11) % 500 + 3 }
        let prompts = (0..<6).map { shared + [($0 * 53) % 500 + 3, 17 + $0, 250 - $0] }
        let params = SamplingParams(maxNewTokens: 16, temperature: 0, ignoreEOS: true)
        func generate(_ e: Engine, _ i: Int, _ tag: String) async throws -> [Int] {
            try await EngineTests.final(e, GenerateRequest(rid: "\(tag)\(i)", prompt: .ids(prompts[i]), sampling: params))
                .outputIds
        }
        var expected: [[Int]] = []
        for i in prompts.indices { expected.append(try await generate(reference, i, "ref")) }

        for i in prompts.indices {
            #expect(try await generate(engine, i, "one") == expected[i], "prompt \(i), one at a time")
        }
        for round in 0..<2 {
            let outs = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
                for (k, i) in (Array(prompts.indices) + Array(prompts.indices)).enumerated() {
                    group.addTask { (i, try await generate(engine, i, "all\(round)-\(k)-")) }
                }
                var all: [(Int, [Int])] = []
                for try await r in group { all.append(r) }
                return all
            }
            for (i, out) in outs { #expect(out == expected[i], "prompt \(i), round \(round) of all at once") }
        }
        #expect(try await generate(engine, 0, "again") == expected[0], "prompt 0 after the batches")
    }
}
