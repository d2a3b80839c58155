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

    /// A real model that claims to select tokens on its device: the scheduler must then take the
    /// argmax-only path for plain greedy batches and produce exactly what the host sampler produces.
    final class DeviceSelecting: CausalModel, @unchecked Sendable {
        let base: CausalLM
        let greedyCalls = Atomic<Int>(0)
        init(_ base: CausalLM) { self.base = base }
        var config: ModelConfig { base.config }
        var deviceName: String { "test-device" }
        var selectsOnDevice: Bool { true }
        func kvCapacity(memFractionStatic fraction: Double) throws -> Int? { nil }
        func makeKVPool(size: Int) throws -> TokenToKVPool { base.makeKVPool(size: size) }
        func forward(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool,
                     logits selection: LogitsSelection) throws -> Logits {
            try base.forward(batch, reqToToken: reqToToken, kvPool: kvPool, logits: selection)
        }
        func forwardGreedy(_ batch: ForwardBatch, reqToToken: ReqToTokenPool, kvPool: TokenToKVPool) throws -> [Int32] {
            greedyCalls.add(1, ordering: .relaxed)
            let logits = try base.forward(batch, reqToToken: reqToToken, kvPool: kvPool, logits: .lastPerRequest)
            return (0..<logits.rows).map { Int32(logits.argmax($0)) }
        }
    }

    @Test func schedulerPicksOnDeviceForPlainGreedyBatches() async throws {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"))
        guard let cpu = loaded.model as? CausalLM else { throw RuntimeError.invalidInput("not a CPU model") }
        let device = DeviceSelecting(cpu)
        let wrapped = LoadedModel(config: loaded.config, model: device, generationConfig: loaded.generationConfig,
                              tokenizer: loaded.tokenizer)
        let options = EngineOptions(maxTotalTokens: 600, maxRunningRequests: 8)
        let reference = try Engine(model: loaded, options: options)
        let engine = try Engine(model: wrapped, options: options)
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
}
