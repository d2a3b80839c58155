import Foundation
import JSON
import Runtime

/// The outcome of one `bench-offline` run (SGLang's `bench_offline_throughput` result dict).
public struct OfflineBenchmarkResult: Sendable {
    /// "engine".
    public var backend = "engine"
    /// Requests that finished without an error.
    public var successfulRequests = 0
    /// Requests that failed, with their first error.
    public var failedRequests = 0
    public var firstError: String?
    /// Seconds from submitting the first request to the last one finishing.
    public var totalLatency = 0.0
    /// Prompt tokens of the successful requests, as the engine tokenized them.
    public var totalInputTokens = 0
    /// Generated tokens of the successful requests.
    public var totalOutputTokens = 0
    /// Prompt tokens the radix cache served, summed over the requests' final outputs.
    public var cachedTokens = 0
    /// The engine's cache hit rate over this run (cached / admitted prompt tokens).
    public var cacheHitRate = 0.0
    /// Prompt tokens the engine actually ran through the model during this run.
    public var prefilledTokens = 0
    /// Seconds of the run the scheduler spent in forward calls (the rest of `totalLatency` is host work between
    /// them, and the ends of the run).
    public var forwardSeconds = 0.0
    /// Decode steps of the run, and their mean batch size.
    public var decodeSteps = 0
    public var meanDecodeBatch = 0.0

    public var requestThroughput: Double { rate(Double(successfulRequests)) }
    public var inputThroughput: Double { rate(Double(totalInputTokens)) }
    public var outputThroughput: Double { rate(Double(totalOutputTokens)) }
    public var totalThroughput: Double { rate(Double(totalInputTokens + totalOutputTokens)) }

    private func rate(_ x: Double) -> Double { totalLatency > 0 ? x / totalLatency : 0 }

    /// An empty result.
    public init() {}

    /// SGLang's printed block ("Offline Throughput Benchmark Result"), plus the cache lines.
    public var summaryLines: [String] {
        typealias R = BenchReport
        return [
            R.banner(" Offline Throughput Benchmark Result "),
            R.row("Backend:", backend),
            R.row("Successful requests:", successfulRequests),
            R.row("Benchmark duration (s):", totalLatency),
            R.row("Total input tokens:", totalInputTokens),
            R.row("Total generated tokens:", totalOutputTokens),
            R.row("Request throughput (req/s):", requestThroughput),
            R.row("Input token throughput (tok/s):", inputThroughput),
            R.row("Output token throughput (tok/s):", outputThroughput),
            R.row("Total token throughput (tok/s):", totalThroughput),
            R.row("Cached tokens:", cachedTokens),
            R.row("Cache hit rate:", cacheHitRate),
            R.row("Time in forward passes (s):", forwardSeconds),
            R.row("Decode steps:", decodeSteps),
            R.row("Mean decode batch:", meanDecodeBatch),
            String(repeating: "=", count: 50),
        ]
    }

    /// The JSONL record (SGLang's keys, then the cache counters).
    public var json: JSONValue {
        .object(JSONObject([
            ("backend", .string(backend)),
            ("successful_requests", .int(successfulRequests)),
            ("total_latency", .double(totalLatency)),
            ("total_input_tokens", .int(totalInputTokens)),
            ("total_output_tokens", .int(totalOutputTokens)),
            ("request_throughput", .double(requestThroughput)),
            ("input_throughput", .double(inputThroughput)),
            ("output_throughput", .double(outputThroughput)),
            ("total_throughput", .double(totalThroughput)),
            ("cached_tokens", .int(cachedTokens)),
            ("prefilled_tokens", .int(prefilledTokens)),
            ("cache_hit_rate", .double(cacheHitRate)),
            ("failed_requests", .int(failedRequests)),
            ("forward_seconds", .double(forwardSeconds)),
            ("decode_steps", .int(decodeSteps)),
            ("mean_decode_batch", .double(meanDecodeBatch)),
        ]))
    }
}

/// SGLang's offline throughput benchmark over the in-process `Engine`: every request is submitted at once.
public enum OfflineBenchmark {
    /// The requests of `rows`: `max_new_tokens` = the row's output length, `ignore_eos` unless disabled, the rest
    /// of the sampling settings from `sampling` (default greedy).
    public static func requests(for rows: [DatasetRow], ignoreEOS: Bool = true, ridPrefix: String = "bench",
                                sampling base: SamplingParams = SamplingParams(temperature: 0)) -> [GenerateRequest]
    {
        rows.enumerated().map { i, row in
            var sampling = base
            sampling.maxNewTokens = row.outputLen
            sampling.ignoreEOS = ignoreEOS
            sampling.skipSpecialTokens = true
            return GenerateRequest(rid: "\(ridPrefix)-\(i)", prompt: row.prompt, sampling: sampling)
        }
    }

    /// Submits every request (in order, all at once), waits for all of them and measures the run.
    public static func run(engine: Engine, requests: [GenerateRequest]) async -> OfflineBenchmarkResult {
        let before = await engine.stats()
        let start = BenchClock.now()
        // `generate` hands each request to the scheduler before returning, so submission order is row order.
        let streams = requests.map { engine.generate($0) }
        let outcomes = await withTaskGroup(of: Result<GenerateOutput, any Error>.self) { group in
            for stream in streams {
                group.addTask {
                    do {
                        var last: GenerateOutput?
                        for try await output in stream { last = output }
                        guard let last, last.isFinished else {
                            return .failure(BenchError.invalidArgument("the stream ended without a final output"))
                        }
                        if case .abort(let message, _) = last.finishReason {
                            return .failure(BenchError.invalidArgument("aborted: \(message)"))
                        }
                        return .success(last)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<GenerateOutput, any Error>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let latency = BenchClock.now() - start
        let after = await engine.stats()
        var result = OfflineBenchmarkResult()
        result.totalLatency = latency
        for outcome in outcomes {
            switch outcome {
            case .success(let output):
                result.successfulRequests += 1
                result.totalInputTokens += output.promptTokens
                result.totalOutputTokens += output.completionTokens
                result.cachedTokens += output.cachedTokens
            case .failure(let error):
                result.failedRequests += 1
                if result.firstError == nil { result.firstError = "\(error)" }
            }
        }
        let admitted = after.promptTokens - before.promptTokens
        result.cacheHitRate = admitted > 0 ? Double(after.cachedTokens - before.cachedTokens) / Double(admitted) : 0
        result.prefilledTokens = after.prefilledTokens - before.prefilledTokens
        result.forwardSeconds = after.forwardSeconds - before.forwardSeconds
        result.decodeSteps = after.decodeSteps - before.decodeSteps
        if result.decodeSteps > 0 {
            result.meanDecodeBatch = Double(after.decodedRequests - before.decodedRequests) / Double(result.decodeSteps)
        }
        return result
    }

    /// SGLang's warm-up: up to 16 random prompts of 256 tokens with 16-token outputs (not recorded); the
    /// radix cache is flushed afterwards so the measured run starts cold.
    public static func warmUp(engine: Engine, builder: BenchDatasetBuilder, numPrompts: Int, seed: UInt64) async throws {
        var options = BenchDatasetOptions()
        options.name = .random
        options.numPrompts = min(max(numPrompts, 1), 16)
        options.randomInputLen = min(256, engine.maxRequestInputLength)
        options.randomOutputLen = 16
        options.randomRangeRatio = 1
        options.seed = seed &+ 0x5EED
        let rows = try builder.build(options)
        _ = await run(engine: engine, requests: requests(for: rows, ridPrefix: "warmup"))
        _ = await engine.flushCache()
    }
}

/// A monotonic clock in seconds.
public enum BenchClock {
    /// Seconds since an arbitrary fixed point (monotonic).
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
