import Compute
import Foundation
import JSON
import Models

/// One measured shape of `bench-one-batch` (SGLang's `bench_one_batch` JSONL record, spec §8.1).
public struct BenchOneBatchResult: Sendable, Hashable {
    public var runName: String
    public var batchSize: Int
    public var inputLen: Int
    public var outputLen: Int
    /// Seconds for the prefill of every request's prompt in one extend forward.
    public var prefillLatency: Double
    /// `batchSize · inputLen / prefillLatency`.
    public var prefillThroughput: Double
    /// Median seconds of one decode step over the batch.
    public var medianDecodeLatency: Double
    /// `batchSize / medianDecodeLatency`.
    public var medianDecodeThroughput: Double
    /// Prefill plus every decode step.
    public var totalLatency: Double
    /// `batchSize · (inputLen + outputLen) / totalLatency`.
    public var overallThroughput: Double

    /// The JSONL record with SGLang's field names.
    public var json: JSONValue {
        var o = JSONObject()
        o["run_name"] = .string(runName)
        o["batch_size"] = .int(batchSize)
        o["input_len"] = .int(inputLen)
        o["output_len"] = .int(outputLen)
        o["prefill_latency"] = .double(prefillLatency)
        o["prefill_throughput"] = .double(prefillThroughput)
        o["median_decode_latency"] = .double(medianDecodeLatency)
        o["median_decode_throughput"] = .double(medianDecodeThroughput)
        o["total_latency"] = .double(totalLatency)
        o["overall_throughput"] = .double(overallThroughput)
        return .object(o)
    }
}

/// SGLang's `bench_one_batch`: a static batch of random prompts, one prefill forward, then greedy decode
/// forwards, timed, with no scheduler in between.
public struct BenchOneBatch: Sendable {
    /// The network.
    public let model: any CausalModel
    /// Seed of the random input ids.
    public let seed: UInt64

    public init(model: any CausalModel, seed: UInt64 = 0) {
        self.model = model
        self.seed = seed
    }

    /// Runs one shape: prefill `batchSize` random prompts of `inputLen` tokens, then `outputLen - 1` decode
    /// steps (the prefill already yields the first output token), printing SGLang's lines through `log`.
    public func run(runName: String, batchSize: Int, inputLen: Int, outputLen: Int,
                    log: (String) -> Void = { print($0) }) throws -> BenchOneBatchResult {
        guard batchSize > 0, inputLen > 0, outputLen > 0 else {
            throw RuntimeError.invalidBenchmark(
                "batch size, input length and output length must be positive (got \(batchSize), \(inputLen), \(outputLen))")
        }
        let context = inputLen + outputLen
        let reqPool = ReqToTokenPool(maxRequests: batchSize, maxContext: context)
        // Sized for the whole batch at full length plus the reserved slot 0.
        let kvPool = try model.makeKVPool(size: batchSize * context + 1)
        let rows = try (0..<batchSize).map { _ in Int32(try reqPool.alloc()) }
        var rng = SplitMix64(seed: seed)
        let vocab = UInt64(model.config.vocabSize)
        let prompts: [[Int32]] = (0..<batchSize).map { _ in
            (0..<inputLen).map { _ in Int32(rng.next() % vocab) }
        }

        let prefillStart = DispatchTime.now()
        var next = try model.forwardGreedy(
            ForwardBatch(requests: rows, prefixLens: Array(repeating: 0, count: batchSize), newTokens: prompts,
                         slots: try kvPool.alloc(batchSize * inputLen)),
            reqToToken: reqPool, kvPool: kvPool)
        let prefillLatency = Self.seconds(since: prefillStart)
        let prefillThroughput = Double(batchSize * inputLen) / prefillLatency
        log(String(format: "Prefill. latency: %6.5f s, throughput: %9.2f token/s", prefillLatency, prefillThroughput))

        var decodeLatencies: [Double] = []
        var length = inputLen
        for step in 0..<(outputLen - 1) {
            let start = DispatchTime.now()
            next = try model.forwardGreedy(
                ForwardBatch(requests: rows, prefixLens: Array(repeating: length, count: batchSize),
                             newTokens: next.map { [$0] }, slots: try kvPool.alloc(batchSize)),
                reqToToken: reqPool, kvPool: kvPool)
            let latency = Self.seconds(since: start)
            decodeLatencies.append(latency)
            length += 1
            if step < 5 {
                log(String(format: "Decode %d. Batch size: %d, latency: %6.5f s, throughput: %9.2f token/s",
                           step, batchSize, latency, Double(batchSize) / latency))
            }
        }
        let median = Self.median(decodeLatencies)
        let medianThroughput = median > 0 ? Double(batchSize) / median : 0
        if !decodeLatencies.isEmpty {
            log(String(format: "Decode.  median latency: %6.5f s, median throughput: %9.2f token/s",
                       median, medianThroughput))
        }
        let total = prefillLatency + decodeLatencies.reduce(0, +)
        let overall = Double(batchSize * (inputLen + outputLen)) / total
        log(String(format: "Total. latency: %6.3f s, throughput: %9.2f token/s", total, overall))
        return BenchOneBatchResult(
            runName: runName, batchSize: batchSize, inputLen: inputLen, outputLen: outputLen,
            prefillLatency: prefillLatency, prefillThroughput: prefillThroughput, medianDecodeLatency: median,
            medianDecodeThroughput: medianThroughput, totalLatency: total, overallThroughput: overall)
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// numpy's median: the mean of the two middle values for an even count.
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
