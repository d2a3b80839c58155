import Bench
import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// `bench-serving`'s client against the real in-process server with SmolLM2: every backend streams a small
    /// random dataset and the counts in the metrics are the ones the dataset and the server define.
    @Suite struct BenchServingServerTests {
        @Test(arguments: [ServingBackend.sglang, .sglangOAI, .sglangOAIChat])
        func randomDatasetOverEveryBackend(backend: ServingBackend) async throws {
            let model = try ServerFixture.model()
            let tokenizer = try #require(model.tokenizer)
            var data = BenchDatasetOptions()
            data.name = .random
            data.numPrompts = 3
            data.randomInputLen = 24
            data.randomOutputLen = 6
            data.randomRangeRatio = 1
            data.tokenizePrompt = backend == .sglang
            let rows = try BenchDatasetBuilder(tokenizer: tokenizer, vocabSize: tokenizer.vocabSize).build(data)
            try await ServerFixture.withServer { server in
                var options = ServingBenchmarkOptions()
                options.backend = backend
                options.baseURL = BenchURL(host: "127.0.0.1", port: try #require(server.port))
                options.maxConcurrency = 2
                let result = try await ServingBenchmark(options: options).run(
                    rows: rows, retokenize: { tokenizer.encode($0, addSpecialTokens: false).count }, log: { _ in })
                let failures = result.results.filter { !$0.success }.map(\.error)
                #expect(failures.isEmpty, "\(failures)")
                let m = result.metrics
                #expect(m.completed == 3)
                #expect(m.totalInput == 3 * 24)
                // ignore_eos: every request generates exactly its output length, as the server reports it.
                #expect(m.totalOutput == 3 * 6)
                #expect(m.totalOutputRetokenized > 0)
                for r in result.results {
                    #expect(!r.generatedText.isEmpty)
                    #expect(r.ttft > 0 && r.ttft <= r.latency)
                    #expect(r.itl.count >= 1 && r.itl.count <= 5)
                }
                #expect(result.maxConcurrentRequests <= 2)
            }
        }
    }
}
