import Compute
import Foundation
import JSON
import Models
import Testing

/// SmolLM2 from its Q4_1 GGUF (packed weights, quantized kernels) against transformers' teacher-forced
/// top-5 log-probabilities in `smollm2/greedy.jsonl`: exercises the GGUF weight source end to end,
/// including the un-permuted attn_q/attn_k rows (a wrong order would scramble RoPE and every logit).
@Suite(.serialized) struct GGUFSmolLM2ForwardTests {
    @Test func teacherForcedTop5LogprobsMatchTransformers() throws {
        let source = try GGUFWeightSourceTests.smolLM2()
        let model = try CausalLM(config: source.config, weights: source)
        let lines = try String(contentsOfFile: try Fixtures.shared("smollm2/greedy.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        // Every prompt, 32 teacher-forced steps each.
        for line in lines {
            let row = try JSONValue.parse(bytes: Array(line.utf8))
            let prompt = (row["prompt_ids"]?.arrayValue ?? []).compactMap(\.intValue)
            let greedy = (row["greedy_ids"]?.arrayValue ?? []).compactMap(\.intValue)
            let steps = row["steps"]?.arrayValue ?? []
            #expect(!prompt.isEmpty && steps.count == greedy.count)
            let tokens = (prompt + greedy.dropLast()).map(Int32.init)
            let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 256)
            let kvPool = model.makeKVPool(size: 256)
            let slots = try kvPool.alloc(tokens.count)
            let batch = ForwardBatch(requests: [0], prefixLens: [0], newTokens: [tokens], slots: slots)
            let logits = try model.forward(batch, reqToToken: reqPool, kvPool: kvPool, logits: .all)
            var worst = 0.0
            for (s, step) in steps.enumerated() {
                let values = logits.row(prompt.count - 1 + s).map(Double.init)
                let maxValue = values.max() ?? 0
                let logSum = maxValue + log(values.reduce(0) { $0 + exp($1 - maxValue) })
                for pair in step["top5"]?.arrayValue ?? [] {
                    guard let id = pair.arrayValue?.first?.intValue, let ref = pair.arrayValue?.last?.doubleValue else {
                        continue
                    }
                    worst = max(worst, abs(values[id] - logSum - ref))
                }
                if let margin = step["margin"]?.doubleValue, margin > 0.05 {
                    #expect(logits.argmax(prompt.count - 1 + s) == greedy[s], "step \(s)")
                }
            }
            #expect(worst <= 2e-2, "largest top-5 logprob difference \(worst)")
            print("smollm2 GGUF teacher-forced: largest top-5 logprob difference \(worst)")
        }
    }

    /// Decode steps multiply single tokens with quantized activations (the integer kernels, not the prefill
    /// GEMM path): teacher-forced top-5 log-probabilities must still be within 2e-2.
    @Test func decodeStepsWithIntegerKernelsMatchTransformers() throws {
        let source = try GGUFWeightSourceTests.smolLM2()
        let model = try CausalLM(config: source.config, weights: source)
        let lines = try String(contentsOfFile: try Fixtures.shared("smollm2/greedy.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        for line in lines.prefix(2) {
            let row = try JSONValue.parse(bytes: Array(line.utf8))
            let prompt = (row["prompt_ids"]?.arrayValue ?? []).compactMap(\.intValue).map(Int32.init)
            let greedy = (row["greedy_ids"]?.arrayValue ?? []).compactMap(\.intValue)
            let steps = row["steps"]?.arrayValue ?? []
            let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 256)
            let kvPool = model.makeKVPool(size: 256)
            var out = try model.forward(
                ForwardBatch(requests: [0], prefixLens: [0], newTokens: [prompt], slots: try kvPool.alloc(prompt.count)),
                reqToToken: reqPool, kvPool: kvPool)
            var length = prompt.count
            var worst = 0.0
            for (s, step) in steps.enumerated() {
                if s > 0 {
                    let batch = ForwardBatch(requests: [0], prefixLens: [length], newTokens: [[Int32(greedy[s - 1])]],
                                             slots: try kvPool.alloc(1))
                    out = try model.forward(batch, reqToToken: reqPool, kvPool: kvPool)
                    length += 1
                }
                let values = out.row(0).map(Double.init)
                let maxValue = values.max() ?? 0
                let logSum = maxValue + log(values.reduce(0) { $0 + exp($1 - maxValue) })
                for pair in step["top5"]?.arrayValue ?? [] {
                    guard let id = pair.arrayValue?.first?.intValue, let ref = pair.arrayValue?.last?.doubleValue else {
                        continue
                    }
                    worst = max(worst, abs(values[id] - logSum - ref))
                }
                if let margin = step["margin"]?.doubleValue, margin > 0.05 {
                    #expect(out.argmax(0) == greedy[s], "step \(s)")
                }
            }
            #expect(worst <= 2e-2, "largest top-5 logprob difference \(worst)")
            print("smollm2 GGUF decode: largest top-5 logprob difference \(worst)")
        }
    }
}
