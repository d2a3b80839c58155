import Bench
import Foundation
import JSON
import Runtime
import Synchronization
import Testing

/// `bench-offline` end to end on the tiny random-weight Llama (vocab 512, no tokenizer: prompts are ids).
@Suite(.serialized) struct OfflineBenchmarkTests {
    static func tiny() throws -> LoadedModel { try ModelLoader.load(path: try BenchFixtures.shared("tiny/llama")) }

    /// A random-id dataset over the tiny model's 512-token vocabulary: its options and its rows.
    static func random(prompts: Int, input: Int, output: Int, rangeRatio: Double) throws
        -> (options: BenchDatasetOptions, rows: [DatasetRow])
    {
        var data = BenchDatasetOptions()
        data.name = .random
        data.numPrompts = prompts
        data.randomInputLen = input
        data.randomOutputLen = output
        data.randomRangeRatio = rangeRatio
        return (data, try BenchDatasetBuilder(tokenizer: nil, vocabSize: 512).build(data))
    }

    @Test func randomDatasetCounts() async throws {
        let model = try Self.tiny()
        let (data, rows) = try Self.random(prompts: 6, input: 24, output: 6, rangeRatio: 0.5)
        var runner = OfflineBenchmarkRunner(
            engineOptions: EngineOptions(maxTotalTokens: 600, maxRunningRequests: 4, chunkedPrefillSize: 16),
            dataset: data)
        let path = BenchFixtures.temporaryPath("offline.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        runner.resultFilename = path
        let lines = LineLog()
        let results = try await runner.run(model: model) { lines.append($0) }
        let r = try #require(results.first)
        #expect(results.count == 1)
        #expect(r.successfulRequests == 6 && r.failedRequests == 0)
        // Ids are sent as they are and ignore_eos runs every request to its length.
        #expect(r.totalInputTokens == rows.reduce(0) { $0 + $1.promptLen })
        #expect(r.totalOutputTokens == rows.reduce(0) { $0 + $1.outputLen })
        #expect(r.prefilledTokens == r.totalInputTokens - r.cachedTokens)
        #expect(r.totalLatency > 0)
        #expect(abs(r.totalThroughput - Double(r.totalInputTokens + r.totalOutputTokens) / r.totalLatency) < 1e-9)
        let printed = lines.all
        #expect(printed.contains("====== Offline Throughput Benchmark Result ======="))
        #expect(printed.contains(BenchReport.row("Successful requests:", 6)))
        #expect(printed.contains(BenchReport.row("Total input tokens:", r.totalInputTokens)))
        #expect(printed.contains(BenchReport.row("Total generated tokens:", r.totalOutputTokens)))
        // One JSONL record with the same counts.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let records = text.split(separator: "\n")
        #expect(records.count == 1)
        let record = try JSONValue.parse(String(records[0]))
        #expect(record["successful_requests"]?.intValue == 6)
        #expect(record["total_input_tokens"]?.intValue == r.totalInputTokens)
        #expect(record["total_output_tokens"]?.intValue == r.totalOutputTokens)
        #expect(record["dataset_name"]?.stringValue == "random")
    }

    @Test func sampledRequestsTakeTheSettingsAndBadOnesAreRefused() async throws {
        let model = try Self.tiny()
        let (data, rows) = try Self.random(prompts: 4, input: 16, output: 5, rangeRatio: 1)
        let settings = SamplingParams(temperature: 0.8, topP: 0.9, topK: 20, minP: 0.05)
        let requests = OfflineBenchmark.requests(for: rows, sampling: settings)
        #expect(requests.count == 4)
        for (request, row) in zip(requests, rows) {
            #expect(request.sampling.temperature == 0.8 && request.sampling.topP == 0.9)
            #expect(request.sampling.topK == 20 && request.sampling.minP == 0.05)
            #expect(request.sampling.maxNewTokens == row.outputLen && request.sampling.ignoreEOS)
        }
        var runner = OfflineBenchmarkRunner(engineOptions: EngineOptions(maxTotalTokens: 400), dataset: data)
        runner.skipWarmup = true
        runner.sampling = settings
        let results = try await runner.run(model: model) { _ in }
        let r = try #require(results.first)
        #expect(r.successfulRequests == 4 && r.totalOutputTokens == 4 * 5)
        runner.sampling.topP = 0
        await #expect(throws: BenchError.self) { _ = try await runner.run(model: model) { _ in } }
    }

    @Test func sharedPrefixHitsTheCacheOnlyWhenItIsOn() async throws {
        let model = try Self.tiny()
        var data = BenchDatasetOptions()
        data.name = .generatedSharedPrefix
        data.gspNumGroups = 2
        data.gspPromptsPerGroup = 3
        data.gspSystemPromptLen = 40
        data.gspQuestionLen = 5
        data.gspOutputLen = 3
        // One request at a time: every later request of a group finds its group's system prompt cached.
        var runner = OfflineBenchmarkRunner(
            engineOptions: EngineOptions(maxTotalTokens: 600, maxRunningRequests: 1), dataset: data)
        runner.compareRadixCache = true
        runner.skipWarmup = true
        let lines = LineLog()
        let results = try await runner.run(model: model) { lines.append($0) }
        #expect(results.count == 2)
        let (on, off) = (results[0], results[1])
        for r in results {
            #expect(r.successfulRequests == 6)
            #expect(r.totalInputTokens == 6 * 45)
            #expect(r.totalOutputTokens == 6 * 3)
            #expect(r.prefilledTokens == r.totalInputTokens - r.cachedTokens)
        }
        #expect(on.cachedTokens >= 2 * 2 * 40)
        #expect(on.cacheHitRate >= Double(2 * 2 * 40) / Double(6 * 45))
        #expect(off.cachedTokens == 0 && off.cacheHitRate == 0)
        #expect(lines.all.contains { $0.hasPrefix("Radix cache speedup (total tok/s):") })
    }
}

/// Collects printed lines across threads.
final class LineLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
