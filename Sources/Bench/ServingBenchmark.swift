import Foundation
import JSON
import NIOHTTP1
import Runtime

/// The settings of `bench-serving` (SGLang's `bench_serving` flags that apply here).
public struct ServingBenchmarkOptions: Sendable {
    public var backend: ServingBackend = .sglang
    /// The server (`--base-url`, or `http://host:port`).
    public var baseURL = BenchURL(host: "127.0.0.1", port: 30000)
    /// Model name for the OpenAI APIs (nil: the first of `/v1/models`).
    public var model: String?
    /// Requests per second with Poisson arrivals; `.infinity` sends everything at once.
    public var requestRate = Double.infinity
    /// Most requests in flight (nil: no limit).
    public var maxConcurrency: Int?
    public var disableStream = false
    public var disableIgnoreEOS = false
    /// Merged into every request body.
    public var extraRequestBody: JSONObject?
    /// Requests sent (and awaited) before the measured run.
    public var warmupRequests = 1
    /// `POST /flush_cache` after the warm-up.
    public var flushCache = false
    /// Seed of the arrival times.
    public var seed: UInt64 = 1
    /// `Authorization: Bearer` key (SGLang reads `OPENAI_API_KEY`).
    public var apiKey: String?

    /// SGLang's defaults against 127.0.0.1:30000.
    public init() {}
}

/// The outcome of a serving benchmark: per-request measurements and the aggregate metrics.
public struct ServingBenchmarkResult: Sendable {
    public var options: ServingBenchmarkOptions
    public var results: [RequestResult]
    public var duration: Double
    public var metrics: ServingMetrics
    /// Most requests in flight at any moment.
    public var maxConcurrentRequests: Int
    /// Most output tokens in any one-second window of the run.
    public var maxOutputTokensPerSecond: Double

    /// SGLang's printed block ("Serving Benchmark Result").
    public var summaryLines: [String] {
        typealias R = BenchReport
        let m = metrics
        let rate = options.requestRate.isFinite ? "\(options.requestRate)" : "inf"
        return [
            R.banner(" Serving Benchmark Result "),
            R.row("Backend:", options.backend.rawValue),
            R.row("Traffic request rate:", rate),
            R.row("Max request concurrency:", options.maxConcurrency.map(String.init) ?? "not set"),
            R.row("Successful requests:", m.completed),
            R.row("Benchmark duration (s):", duration),
            R.row("Total input tokens:", m.totalInput),
            R.row("Total generated tokens:", m.totalOutput),
            R.row("Total generated tokens (retokenized):", m.totalOutputRetokenized),
            R.row("Request throughput (req/s):", m.requestThroughput),
            R.row("Input token throughput (tok/s):", m.inputThroughput),
            R.row("Output token throughput (tok/s):", m.outputThroughput),
            R.row("Total token throughput (tok/s):", m.totalThroughput),
            R.row("Concurrency:", m.concurrency),
            R.banner("End-to-End Latency", fill: "-"),
            R.row("Mean E2E Latency (ms):", m.meanE2E),
            R.row("Median E2E Latency (ms):", m.medianE2E),
            R.row("P99 E2E Latency (ms):", m.p99E2E),
            R.banner("Time to First Token", fill: "-"),
            R.row("Mean TTFT (ms):", m.meanTTFT),
            R.row("Median TTFT (ms):", m.medianTTFT),
            R.row("P99 TTFT (ms):", m.p99TTFT),
            R.banner("Time per Output Token (excl. 1st token)", fill: "-"),
            R.row("Mean TPOT (ms):", m.meanTPOT),
            R.row("Median TPOT (ms):", m.medianTPOT),
            R.row("P99 TPOT (ms):", m.p99TPOT),
            R.banner("Inter-Token Latency", fill: "-"),
            R.row("Mean ITL (ms):", m.meanITL),
            R.row("Median ITL (ms):", m.medianITL),
            R.row("P95 ITL (ms):", m.p95ITL),
            R.row("P99 ITL (ms):", m.p99ITL),
            R.row("Max ITL (ms):", m.maxITL),
            R.row("Max output tokens/s:", maxOutputTokensPerSecond),
            R.row("Max concurrent requests:", maxConcurrentRequests),
            String(repeating: "=", count: 50),
        ]
    }

    /// The JSONL record: SGLang's keys (`extra` — dataset arguments — first).
    public func json(extra: [(String, JSONValue)] = []) -> JSONValue {
        let m = metrics
        var o = JSONObject(extra)
        let pairs: [(String, JSONValue)] = [
            ("backend", .string(options.backend.rawValue)),
            ("request_rate", options.requestRate.isFinite ? .double(options.requestRate) : .string("inf")),
            ("max_concurrency", options.maxConcurrency.map { .int($0) } ?? .null),
            ("duration", .double(duration)),
            ("completed", .int(m.completed)),
            ("total_input_tokens", .int(m.totalInput)),
            ("total_output_tokens", .int(m.totalOutput)),
            ("total_output_tokens_retokenized", .int(m.totalOutputRetokenized)),
            ("request_throughput", .double(m.requestThroughput)),
            ("input_throughput", .double(m.inputThroughput)),
            ("output_throughput", .double(m.outputThroughput)),
            ("total_throughput", .double(m.totalThroughput)),
            ("mean_e2e_latency_ms", .double(m.meanE2E)),
            ("median_e2e_latency_ms", .double(m.medianE2E)),
            ("std_e2e_latency_ms", .double(m.stdE2E)),
            ("p99_e2e_latency_ms", .double(m.p99E2E)),
            ("mean_ttft_ms", .double(m.meanTTFT)),
            ("median_ttft_ms", .double(m.medianTTFT)),
            ("std_ttft_ms", .double(m.stdTTFT)),
            ("p99_ttft_ms", .double(m.p99TTFT)),
            ("mean_tpot_ms", .double(m.meanTPOT)),
            ("median_tpot_ms", .double(m.medianTPOT)),
            ("std_tpot_ms", .double(m.stdTPOT)),
            ("p99_tpot_ms", .double(m.p99TPOT)),
            ("mean_itl_ms", .double(m.meanITL)),
            ("median_itl_ms", .double(m.medianITL)),
            ("std_itl_ms", .double(m.stdITL)),
            ("p95_itl_ms", .double(m.p95ITL)),
            ("p99_itl_ms", .double(m.p99ITL)),
            ("max_itl_ms", .double(m.maxITL)),
            ("concurrency", .double(m.concurrency)),
            ("max_output_tokens_per_s", .double(maxOutputTokensPerSecond)),
            ("max_concurrent_requests", .int(maxConcurrentRequests)),
        ]
        for (k, v) in pairs { o[k] = v }
        return .object(o)
    }
}

/// SGLang's online serving benchmark client.
public struct ServingBenchmark: Sendable {
    public let options: ServingBenchmarkOptions
    let client: BenchHTTPClient

    /// A benchmark with `options` (the API key goes on every request).
    public init(options: ServingBenchmarkOptions) {
        self.options = options
        client = BenchHTTPClient(headers: options.apiKey.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    /// The model name to send: `--model`, else the first id of `GET /v1/models`, else "default".
    public func resolveModel() async -> String {
        if let model = options.model { return model }
        guard let (status, body) = try? await client.fetch(method: .GET, url: options.baseURL.appending(path: "/v1/models")),
              status == 200, let json = try? JSONValue.parse(bytes: body),
              let id = json["data"]?.arrayValue?.first?["id"]?.stringValue
        else { return "default" }
        return id
    }

    /// Sends one request and measures it; failures are recorded in the result, never thrown.
    public func request(_ row: DatasetRow, model: String, outputLen: Int? = nil) async -> RequestResult {
        let backend = options.backend
        let stream = !options.disableStream
        let wanted = outputLen ?? row.outputLen
        let payload = backend.payload(prompt: row.prompt, outputLen: wanted, model: model, stream: stream,
                                      ignoreEOS: !options.disableIgnoreEOS, extra: options.extraRequestBody)
        let body = Array(payload.serialized(.compact).utf8)
        var result = RequestResult(promptLen: row.promptLen)
        result.outputLen = wanted
        var timer = StreamTimer(start: BenchClock.now())
        result.startTime = timer.start
        var parser = SSEParser()
        var whole: [UInt8] = []
        var text = ""
        var tokens: Int?
        do {
            let status = try await client.send(method: .POST, url: options.baseURL.appending(path: backend.path),
                                               body: body) { chunk in
                // Without streaming the body is one JSON document; with it, keep the start for error messages.
                if !stream || whole.count < 1024 { whole += chunk }
                guard stream else { return }
                for payload in parser.feed(chunk) {
                    let now = BenchClock.now()
                    if payload == "[DONE]" {
                        timer.event(at: now, hasText: false)
                        continue
                    }
                    let parsed = try backend.parse(payload, streamed: true)
                    if let count = parsed.completionTokens { tokens = count }
                    let native = !backend.isOpenAI
                    timer.event(at: now, hasText: !parsed.text.isEmpty, cumulativeTokens: native ? parsed.completionTokens : nil)
                    if native {
                        if !parsed.text.isEmpty { text = parsed.text }
                    } else {
                        text += parsed.text
                    }
                }
            }
            let end = BenchClock.now()
            guard status == 200 else {
                let message = String(decoding: whole.prefix(300), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                result.error = "HTTP \(status)" + (message.isEmpty ? "" : ": \(message)")
                return result
            }
            if stream {
                result.ttft = timer.ttft
                result.itl = timer.itl
                result.latency = timer.lastEventTime - timer.start
            } else {
                let parsed = try backend.parse(String(decoding: whole, as: UTF8.self), streamed: false)
                text = parsed.text
                tokens = parsed.completionTokens
                result.latency = end - timer.start
                result.ttft = result.latency
            }
            result.generatedText = text
            if let tokens { result.outputLen = tokens }
            result.success = true
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    /// Runs the benchmark: warm-up, optional cache flush, then every row at the configured arrival rate
    /// and concurrency. `retokenize` counts output tokens on the client.
    /// - Throws: `BenchError.http` when every warm-up request fails (the server is unreachable or misconfigured).
    public func run(rows: [DatasetRow], retokenize: @escaping @Sendable (String) -> Int,
                    log: @Sendable (String) -> Void = { print($0) }) async throws -> ServingBenchmarkResult {
        guard let first = rows.first else { throw BenchError.invalidArgument("the dataset is empty") }
        let model = options.backend.isOpenAI ? await resolveModel() : (options.model ?? "default")
        if options.warmupRequests > 0 {
            log("Starting warmup with \(options.warmupRequests) sequences...")
            let warm = await withTaskGroup(of: RequestResult.self) { group in
                for _ in 0..<options.warmupRequests {
                    group.addTask { await self.request(first, model: model, outputLen: min(first.outputLen, 32)) }
                }
                var all: [RequestResult] = []
                for await r in group { all.append(r) }
                return all
            }
            guard warm.contains(where: \.success) else {
                throw BenchError.http("warmup failed: \(warm.first?.error ?? "no response")")
            }
            log("Warmup completed. Starting main benchmark run...")
        }
        if options.flushCache {
            _ = try? await client.fetch(method: .POST, url: options.baseURL.appending(path: "/flush_cache"))
        }
        let semaphore = options.maxConcurrency.map { AsyncSemaphore(permits: $0) }
        var arrivals = SplitMix64(seed: options.seed)
        let start = BenchClock.now()
        let results = await withTaskGroup(of: (Int, RequestResult).self) { group in
            for (i, row) in rows.enumerated() {
                group.addTask {
                    await semaphore?.wait()
                    let r = await self.request(row, model: model)
                    await semaphore?.signal()
                    return (i, r)
                }
                if options.requestRate.isFinite, options.requestRate > 0 {
                    let interval = arrivals.exponential(mean: 1 / options.requestRate)
                    try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                }
            }
            var ordered = [RequestResult](repeating: RequestResult(), count: rows.count)
            for await (i, r) in group { ordered[i] = r }
            return ordered
        }
        let duration = BenchClock.now() - start
        let metrics = ServingMetrics.compute(results: results, duration: duration, retokenize: retokenize)
        return ServingBenchmarkResult(
            options: options, results: results, duration: duration, metrics: metrics,
            maxConcurrentRequests: Self.maxConcurrent(results),
            maxOutputTokensPerSecond: Self.maxTokensPerSecond(results, origin: start))
    }

    /// Most requests whose [start, start + latency] intervals overlap at one instant.
    public static func maxConcurrent(_ results: [RequestResult]) -> Int {
        var events: [(Double, Int)] = []
        for r in results where r.success {
            events.append((r.startTime, 1))
            events.append((r.startTime + r.latency, -1))
        }
        // Ends sort before starts at the same instant: back-to-back requests do not overlap.
        events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var current = 0, best = 0
        for (_, delta) in events {
            current += delta
            best = Swift.max(best, current)
        }
        return best
    }

    /// Most output tokens whose arrival (first token at TTFT, the rest at the cumulative ITLs) falls in one
    /// whole second counted from `origin`.
    public static func maxTokensPerSecond(_ results: [RequestResult], origin: Double) -> Double {
        var buckets: [Int: Int] = [:]
        for r in results where r.success && r.ttft > 0 {
            var t = r.startTime + r.ttft - origin
            buckets[Int(t.rounded(.down)), default: 0] += 1
            for gap in r.itl {
                t += gap
                buckets[Int(t.rounded(.down)), default: 0] += 1
            }
        }
        return Double(buckets.values.max() ?? 0)
    }
}

/// A counting semaphore for `--max-concurrency`.
actor AsyncSemaphore {
    private var permits: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { self.permits = permits }

    func wait() async {
        if permits > 0 {
            permits -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func signal() {
        if waiters.isEmpty {
            permits += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
