import Foundation
import JSON

/// The aggregate metrics of a serving benchmark (SGLang's `BenchmarkMetrics`). Latencies are milliseconds.
public struct ServingMetrics: Sendable, Hashable {
    public var completed = 0
    public var totalInput = 0
    public var totalOutput = 0
    /// Output tokens counted by re-encoding the generated text on the client.
    public var totalOutputRetokenized = 0
    public var requestThroughput = 0.0
    public var inputThroughput = 0.0
    public var outputThroughput = 0.0
    public var outputThroughputRetokenized = 0.0
    public var totalThroughput = 0.0
    public var totalThroughputRetokenized = 0.0
    public var meanTTFT = 0.0, medianTTFT = 0.0, stdTTFT = 0.0, p99TTFT = 0.0
    /// Time per output token after the first: (latency − TTFT) / (output_len − 1), requests with > 1 token.
    public var meanTPOT = 0.0, medianTPOT = 0.0, stdTPOT = 0.0, p99TPOT = 0.0
    public var meanITL = 0.0, medianITL = 0.0, stdITL = 0.0, p95ITL = 0.0, p99ITL = 0.0, maxITL = 0.0
    public var meanE2E = 0.0, medianE2E = 0.0, stdE2E = 0.0, p99E2E = 0.0
    /// Σ latency / duration: the average number of requests in flight.
    public var concurrency = 0.0

    /// Metrics with every value zero.
    public init() {}

    /// SGLang's `calculate_metrics`: successful requests only; `retokenize` counts a text's tokens
    /// (without special tokens).
    public static func compute(results: [RequestResult], duration: Double,
                               retokenize: (String) -> Int) -> ServingMetrics {
        var m = ServingMetrics()
        var ttfts: [Double] = [], tpots: [Double] = [], itls: [Double] = [], e2e: [Double] = []
        for r in results where r.success {
            m.completed += 1
            m.totalInput += r.promptLen
            m.totalOutput += r.outputLen
            m.totalOutputRetokenized += retokenize(r.generatedText)
            if r.outputLen > 1 { tpots.append((r.latency - r.ttft) / Double(r.outputLen - 1)) }
            itls += r.itl
            ttfts.append(r.ttft)
            e2e.append(r.latency)
        }
        let d = duration > 0 ? duration : 1
        m.requestThroughput = Double(m.completed) / d
        m.inputThroughput = Double(m.totalInput) / d
        m.outputThroughput = Double(m.totalOutput) / d
        m.outputThroughputRetokenized = Double(m.totalOutputRetokenized) / d
        m.totalThroughput = Double(m.totalInput + m.totalOutput) / d
        m.totalThroughputRetokenized = Double(m.totalInput + m.totalOutputRetokenized) / d
        typealias S = BenchStatistics
        let ms = 1000.0
        (m.meanTTFT, m.medianTTFT, m.stdTTFT, m.p99TTFT) =
            (S.mean(ttfts) * ms, S.median(ttfts) * ms, S.std(ttfts) * ms, S.percentile(ttfts, 99) * ms)
        (m.meanTPOT, m.medianTPOT, m.stdTPOT, m.p99TPOT) =
            (S.mean(tpots) * ms, S.median(tpots) * ms, S.std(tpots) * ms, S.percentile(tpots, 99) * ms)
        (m.meanITL, m.medianITL, m.stdITL) = (S.mean(itls) * ms, S.median(itls) * ms, S.std(itls) * ms)
        (m.p95ITL, m.p99ITL, m.maxITL) = (S.percentile(itls, 95) * ms, S.percentile(itls, 99) * ms, S.max(itls) * ms)
        (m.meanE2E, m.medianE2E, m.stdE2E, m.p99E2E) =
            (S.mean(e2e) * ms, S.median(e2e) * ms, S.std(e2e) * ms, S.percentile(e2e, 99) * ms)
        m.concurrency = e2e.reduce(0, +) / d
        return m
    }
}

/// SGLang's console layout: `{:<40} {:<10}` rows between banner lines 50 characters wide.
public enum BenchReport {
    /// `====== title ======` (centered, padded with `fill`, 50 wide).
    public static func banner(_ title: String, fill: Character = "=") -> String {
        let width = 50
        let padding = max(0, width - title.count)
        let left = padding / 2
        return String(repeating: fill, count: left) + title + String(repeating: fill, count: padding - left)
    }

    /// A label left-aligned in 40 columns, then the value left-aligned in 10.
    public static func row(_ label: String, _ value: String) -> String {
        pad(label, 40) + " " + pad(value, 10)
    }

    /// A row with a number printed with two decimals.
    public static func row(_ label: String, _ value: Double) -> String { row(label, fixed2(value)) }

    /// A row with an integer.
    public static func row(_ label: String, _ value: Int) -> String { row(label, String(value)) }

    /// Python's `{:.2f}`.
    public static func fixed2(_ x: Double) -> String { String(format: "%.2f", x) }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }

    /// Appends `line` and a newline to `path`, creating the file when needed (SGLang appends JSONL too).
    public static func appendLine(_ line: String, to path: String) throws {
        try JSONLFile.append(line, to: path)
    }
}
