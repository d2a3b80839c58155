import Foundation
import JSON
import Models
import Runtime
import Testing

/// `ModelLoader` + `Generator` on the tiny random-weight models of `../shared/fixtures/tiny`, and
/// `BenchOneBatch`'s records.
struct TinyModelGenerationTests {
    static let names = ["llama", "llama31", "llama-tied-mha", "qwen2", "qwen3", "mistral", "gemma2", "mixtral",
                        "qwen2_moe", "qwen3_moe"]

    /// Greedy generation of 16 tokens (EOS ignored) equals transformers' `greedy` ids for all four sequences.
    @Test(arguments: names)
    func greedyGenerationMatchesReference(name: String) throws {
        let folder = try RuntimeFixtures.shared("tiny/\(name)")
        let reference = try JSONValue.parse(
            bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))))
        let loaded = try ModelLoader.load(path: folder)
        #expect(loaded.tokenizer == nil)
        #expect(loaded.eosTokenIds == Set(loaded.generationConfig.eosTokenIds))
        let generator = Generator(model: loaded.model)
        let sequences = reference["sequences"]?.arrayValue ?? []
        let greedy = reference["greedy"]?.arrayValue ?? []
        #expect(sequences.count == 4 && greedy.count == 4)
        for (sequence, expected) in zip(sequences, greedy) {
            let want = RuntimeFixtures.ints(expected)
            let result = try generator.generate(
                promptIds: RuntimeFixtures.ints(sequence), params: SamplingParams(temperature: 0),
                maxNewTokens: want.count, stopIds: loaded.eosTokenIds, ignoreEOS: true)
            #expect(result.outputIds == want)
            #expect(result.finishReason == .length(want.count))
        }
    }

    /// Without --ignore-eos generation ends at the first stop id, which is kept as the last output id.
    @Test func stopsAtTheFirstStopId() throws {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"))
        let generator = Generator(model: loaded.model)
        let prompt = [5, 17, 99, 3]
        let free = try generator.generate(promptIds: prompt, params: SamplingParams(temperature: 0), maxNewTokens: 8,
                                          ignoreEOS: true)
        let stop = free.outputIds[2]
        let stopped = try generator.generate(promptIds: prompt, params: SamplingParams(temperature: 0),
                                             maxNewTokens: 8, stopIds: [stop])
        let firstHit = (free.outputIds.firstIndex(of: stop) ?? 0) + 1
        #expect(stopped.outputIds == Array(free.outputIds.prefix(firstHit)))
        #expect(stopped.finishReason == .matchedToken(stop))
        // Seeded sampling is reproducible end to end.
        let params = SamplingParams(temperature: 1, topP: 0.9, seed: 3)
        let a = try generator.generate(promptIds: prompt, params: params, maxNewTokens: 8, ignoreEOS: true)
        let b = try generator.generate(promptIds: prompt, params: params, maxNewTokens: 8, ignoreEOS: true)
        #expect(a == b)
    }

    /// One bench shape on dummy weights: SGLang's JSONL fields, and throughputs derived from the latencies.
    @Test func benchOneBatchRecordsSGLangFields() throws {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/qwen2"), loadFormat: .dummy, seed: 1)
        var lines: [String] = []
        let r = try BenchOneBatch(model: loaded.model, seed: 5).run(
            runName: "t", batchSize: 3, inputLen: 12, outputLen: 6, log: { lines.append($0) })
        #expect(lines.first?.hasPrefix("Prefill. latency: ") == true)
        #expect(lines.filter { $0.hasPrefix("Decode ") }.count == 5)
        #expect(lines.contains { $0.hasPrefix("Decode.  median latency: ") })
        #expect(lines.last?.hasPrefix("Total. latency: ") == true)
        #expect(abs(r.prefillThroughput - 36 / r.prefillLatency) < 1e-6 * r.prefillThroughput)
        #expect(abs(r.medianDecodeThroughput - 3 / r.medianDecodeLatency) < 1e-6 * r.medianDecodeThroughput)
        #expect(abs(r.overallThroughput - 54 / r.totalLatency) < 1e-6 * r.overallThroughput)
        #expect(r.totalLatency >= r.prefillLatency)
        #expect(r.json.objectValue?.keys == [
            "run_name", "batch_size", "input_len", "output_len", "prefill_latency", "prefill_throughput",
            "median_decode_latency", "median_decode_throughput", "total_latency", "overall_throughput",
        ])
        #expect(throws: RuntimeError.self) {
            _ = try BenchOneBatch(model: loaded.model).run(runName: "t", batchSize: 0, inputLen: 4, outputLen: 4)
        }
    }
}
