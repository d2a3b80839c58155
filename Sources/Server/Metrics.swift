import Prometheus
import Runtime

/// SGLang's Prometheus metrics (`--enable-metrics`, `/metrics`): request counters and latency histograms
/// recorded as requests finish, scheduler gauges read from the engine at scrape time.
final class Metrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let promptTokens: Counter
    private let generationTokens: Counter
    private let cachedTokens: Counter
    private let requests: Counter
    private let abortedRequests: Counter
    private let e2eLatency: ValueHistogram
    private let timeToFirstToken: ValueHistogram
    private let running: Gauge
    private let queued: Gauge
    private let tokenUsage: Gauge
    private let usedTokens: Gauge
    private let cacheHitRate: Gauge

    init(modelName: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let labels = [("model_name", modelName)]
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: .init(metricName: "sglang:" + name, unitName: "total", helpText: help), labels: labels)
        }
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: .init(metricName: "sglang:" + name, unitName: "", helpText: help), labels: labels)
        }
        func histogram(_ name: String, _ help: String) -> ValueHistogram {
            registry.makeValueHistogram(
                descriptor: .init(metricName: "sglang:" + name, unitName: "seconds", helpText: help), labels: labels,
                buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160])
        }
        promptTokens = counter("prompt_tokens", "Number of prefill tokens processed.")
        generationTokens = counter("generation_tokens", "Number of generation tokens processed.")
        cachedTokens = counter("cached_tokens", "Number of prompt tokens served from the prefix cache.")
        requests = counter("num_requests", "Number of requests processed.")
        abortedRequests = counter("num_aborted_requests", "Number of requests aborted.")
        e2eLatency = histogram("e2e_request_latency", "Histogram of end-to-end request latency in seconds.")
        timeToFirstToken = histogram("time_to_first_token", "Histogram of time to first token in seconds.")
        running = gauge("num_running_reqs", "The number of running requests.")
        queued = gauge("num_queue_reqs", "The number of requests in the waiting queue.")
        tokenUsage = gauge("token_usage", "The token usage of the KV cache (fraction of slots in use).")
        usedTokens = gauge("num_used_tokens", "The number of KV cache slots in use.")
        cacheHitRate = gauge("cache_hit_rate", "The prefix cache hit rate.")
    }

    /// Records a finished request.
    func record(finished out: GenerateOutput, firstTokenLatency: Double?) {
        requests.increment()
        promptTokens.increment(by: Int64(out.promptTokens))
        generationTokens.increment(by: Int64(out.completionTokens))
        cachedTokens.increment(by: Int64(out.cachedTokens))
        if case .abort? = out.finishReason { abortedRequests.increment() }
        if let e2e = out.e2eLatency { e2eLatency.record(e2e) }
        if let ttft = firstTokenLatency { timeToFirstToken.record(ttft) }
    }

    /// Records a streamed request's time to first token.
    func record(firstToken seconds: Double) { timeToFirstToken.record(seconds) }

    /// The exposition text, with the gauges refreshed from `stats`.
    func render(_ stats: EngineStats) -> [UInt8] {
        running.set(Double(stats.runningRequests))
        queued.set(Double(stats.waitingRequests))
        let used = stats.maxTotalTokens - stats.availableTokens - stats.evictableTokens
        usedTokens.set(Double(used))
        tokenUsage.set(stats.maxTotalTokens > 0 ? Double(used) / Double(stats.maxTotalTokens) : 0)
        cacheHitRate.set(stats.cacheHitRate)
        return registry.emitToBuffer()
    }
}
