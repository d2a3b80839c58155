import JSON
import Runtime

/// Everything `sglang bench-offline` does after parsing its flags: datasets, engine(s), warm-up, the
/// measured run, the printed block and the JSONL record.
public struct OfflineBenchmarkRunner: Sendable {
    /// The engine's settings (server flags).
    public var engineOptions: EngineOptions
    /// The dataset flags.
    public var dataset: BenchDatasetOptions
    public var skipWarmup = false
    public var disableIgnoreEOS = false
    /// JSONL file to append each run's record to (nil or empty: none).
    public var resultFilename: String?
    /// Run the dataset twice, radix cache on then off, and report the throughput ratio.
    public var compareRadixCache = false
    /// The measured requests' sampling settings (temperature, top-k/top-p/min-p; lengths come from the dataset).
    /// Default greedy, as SGLang's benchmark.
    public var sampling = SamplingParams(temperature: 0)

    /// A runner.
    public init(engineOptions: EngineOptions, dataset: BenchDatasetOptions) {
        self.engineOptions = engineOptions
        self.dataset = dataset
    }

    /// Builds the dataset for `model`, runs it (twice with `compareRadixCache`) and returns the results.
    /// - Throws: `BenchError` for bad dataset options, `RuntimeError` when the engine cannot start.
    public func run(model: LoadedModel, log: @Sendable (String) -> Void) async throws -> [OfflineBenchmarkResult] {
        do { try sampling.validate() } catch { throw BenchError.invalidArgument("\(error)") }
        var vocab = model.config.vocabSize
        if let tokenizer = model.tokenizer { vocab = min(vocab, tokenizer.vocabSize) }
        let builder = BenchDatasetBuilder(tokenizer: model.tokenizer, vocabSize: vocab)
        let rows = try builder.build(dataset)
        log("#Input tokens: \(rows.reduce(0) { $0 + $1.promptLen })")
        log("#Output tokens: \(rows.reduce(0) { $0 + $1.outputLen })")
        let configs: [EngineOptions]
        if compareRadixCache {
            var on = engineOptions, off = engineOptions
            on.disableRadixCache = false
            off.disableRadixCache = true
            configs = [on, off]
        } else {
            configs = [engineOptions]
        }
        var results: [OfflineBenchmarkResult] = []
        for options in configs {
            let engine = try Engine(model: model, options: options)
            defer { engine.shutdown() }
            let label = options.disableRadixCache ? "radix cache off" : "radix cache on"
            if !skipWarmup {
                log("Warmup (\(label))...")
                try await OfflineBenchmark.warmUp(engine: engine, builder: builder, numPrompts: rows.count,
                                                  seed: dataset.seed)
            }
            log("Benchmark (\(label))...")
            let requests = OfflineBenchmark.requests(for: rows, ignoreEOS: !disableIgnoreEOS, sampling: sampling)
            let result = await OfflineBenchmark.run(engine: engine, requests: requests)
            if let error = result.firstError {
                log("\(result.failedRequests) request(s) failed; first error: \(error)")
            }
            for line in result.summaryLines { log(line) }
            if let path = resultFilename, !path.isEmpty {
                var record = result.json.objectValue ?? JSONObject()
                record["dataset_name"] = .string(dataset.name.rawValue)
                record["disable_radix_cache"] = .bool(options.disableRadixCache)
                record["num_prompts"] = .int(rows.count)
                try JSONLFile.append(JSONValue.object(record).serialized(.python()), to: path)
            }
            results.append(result)
        }
        if results.count == 2, results[1].totalThroughput > 0 {
            let ratio = results[0].totalThroughput / results[1].totalThroughput
            log(BenchReport.row("Radix cache speedup (total tok/s):", ratio))
        }
        return results
    }
}
