import Bench
import Testing

@Suite struct ServingMetricsTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance }

    @Test func statisticsMatchNumpyDefinitions() {
        let xs = [4.0, 1, 3, 2]
        #expect(BenchStatistics.mean(xs) == 2.5)
        #expect(BenchStatistics.median(xs) == 2.5)
        #expect(BenchStatistics.median([5, 1, 3]) == 3)
        // Population std: deviations ±0.5, ±1.5 → variance (0.25·2 + 2.25·2) / 4 = 1.25.
        #expect(close(BenchStatistics.std(xs), 1.25.squareRoot()))
        // rank 0.99·3 = 2.97: 3 + 0.97 · (4 − 3).
        #expect(close(BenchStatistics.percentile(xs, 99), 3.97))
        // rank 0.95·4 = 3.8 over [10, 20, 30, 40, 50]: 40 + 0.8·10.
        #expect(close(BenchStatistics.percentile([50, 10, 40, 20, 30], 95), 48))
        #expect(BenchStatistics.percentile([7], 99) == 7)
        #expect(BenchStatistics.mean([]) == 0 && BenchStatistics.percentile([], 99) == 0 && BenchStatistics.max([]) == 0)
    }

    @Test func nativeStreamSplitsGapsPerToken() {
        var timer = StreamTimer(start: 10)
        timer.event(at: 10.5, hasText: true, cumulativeTokens: 1)
        timer.event(at: 10.75, hasText: true, cumulativeTokens: 2)
        // Three tokens in one chunk: the 0.6 s gap counts as three gaps of 0.2 s.
        timer.event(at: 11.35, hasText: true, cumulativeTokens: 5)
        // The same count again (no new token) is not a gap and does not move the clock.
        timer.event(at: 11.4, hasText: true, cumulativeTokens: 5)
        timer.event(at: 11.5, hasText: false)
        #expect(close(timer.ttft, 0.5))
        #expect(timer.itl.count == 4)
        for (got, want) in zip(timer.itl, [0.25, 0.2, 0.2, 0.2]) { #expect(close(got, want)) }
        #expect(close(timer.lastTextTime, 11.35))
        #expect(close(timer.lastEventTime, 11.5))
    }

    @Test func openAIStreamCountsEachChunkOnce() {
        var timer = StreamTimer(start: 0)
        timer.event(at: 0.1, hasText: false)  // role-only first chunk: no text, no TTFT
        timer.event(at: 0.3, hasText: true)
        timer.event(at: 0.45, hasText: true)
        timer.event(at: 0.5, hasText: false)  // usage chunk
        timer.event(at: 0.9, hasText: true)
        #expect(close(timer.ttft, 0.3))
        #expect(timer.itl.count == 2)
        #expect(close(timer.itl[0], 0.15) && close(timer.itl[1], 0.45))
    }

    @Test func aggregateMetricsFollowTheDefinitions() {
        func result(_ prompt: Int, _ output: Int, ttft: Double, latency: Double, itl: [Double], text: String,
                    success: Bool = true) -> RequestResult {
            var r = RequestResult(promptLen: prompt)
            r.outputLen = output
            r.ttft = ttft
            r.latency = latency
            r.itl = itl
            r.generatedText = text
            r.success = success
            return r
        }
        let results = [
            result(100, 5, ttft: 0.2, latency: 1.0, itl: [0.2, 0.2, 0.2, 0.2], text: "a b c d e"),
            result(50, 1, ttft: 0.4, latency: 0.4, itl: [], text: "x"),
            result(70, 3, ttft: 0.1, latency: 0.7, itl: [0.3, 0.3], text: "p q r"),
            result(999, 9, ttft: 9, latency: 9, itl: [9], text: "failed", success: false),
        ]
        // Retokenize by counting words (an independent stand-in for the tokenizer).
        let m = ServingMetrics.compute(results: results, duration: 2) { $0.split(separator: " ").count }
        #expect(m.completed == 3)
        #expect(m.totalInput == 220)
        #expect(m.totalOutput == 9)
        #expect(m.totalOutputRetokenized == 9)
        #expect(close(m.requestThroughput, 1.5))
        #expect(close(m.inputThroughput, 110))
        #expect(close(m.outputThroughput, 4.5))
        #expect(close(m.totalThroughput, 114.5))
        // TPOT over requests with > 1 token: (1.0 − 0.2)/4 = 0.2 and (0.7 − 0.1)/2 = 0.3.
        #expect(close(m.meanTPOT, 250))
        #expect(close(m.medianTPOT, 250))
        #expect(close(m.p99TPOT, 200 + 0.99 * 100))
        // TTFT over [0.2, 0.4, 0.1].
        #expect(close(m.meanTTFT, 700.0 / 3))
        #expect(close(m.medianTTFT, 200))
        // ITL over [0.2 ×4, 0.3 ×2].
        #expect(close(m.meanITL, 1400.0 / 6))
        #expect(close(m.medianITL, 200))
        #expect(close(m.maxITL, 300))
        #expect(close(m.p95ITL, 300))  // rank 4.75 lies between the two 0.3 s values
        // E2E over [1.0, 0.4, 0.7]; concurrency = Σ latency / duration.
        #expect(close(m.meanE2E, 700))
        #expect(close(m.medianE2E, 700))
        #expect(close(m.concurrency, 2.1 / 2))
    }

    @Test func peakConcurrencyAndTokenRate() {
        func timed(_ start: Double, _ latency: Double, ttft: Double = 0.1, itl: [Double] = []) -> RequestResult {
            var r = RequestResult()
            r.success = true
            r.startTime = start
            r.latency = latency
            r.ttft = ttft
            r.itl = itl
            return r
        }
        // [0, 2], [1, 3], [2, 4] and [2.5, 3]: at t = 2.5 three are in flight ([0, 2] ended at 2).
        let rs = [timed(0, 2), timed(1, 2), timed(2, 2), timed(2.5, 0.5)]
        #expect(ServingBenchmark.maxConcurrent(rs) == 3)
        // Tokens at 0.1, 0.3, 0.5, 1.2 (request 1) and 1.1, 1.4 (request 2): 3 in [0, 1) and 3 in [1, 2).
        let tokens = [timed(0, 2, ttft: 0.1, itl: [0.2, 0.2, 0.7]), timed(1, 1, ttft: 0.1, itl: [0.3])]
        #expect(ServingBenchmark.maxTokensPerSecond(tokens, origin: 0) == 3)
        #expect(ServingBenchmark.maxTokensPerSecond(tokens + [timed(1.5, 1, ttft: 0.2)], origin: 0) == 4)
    }

    @Test func reportLayoutMatchesPythonFormatting() {
        #expect(BenchReport.banner(" Serving Benchmark Result ") == "============ Serving Benchmark Result ============")
        #expect(BenchReport.banner("End-to-End Latency", fill: "-") == "----------------End-to-End Latency----------------")
        let row = BenchReport.row("Successful requests:", 12)
        #expect(row == "Successful requests:" + String(repeating: " ", count: 20) + " 12        ")
        #expect(BenchReport.fixed2(3.14159) == "3.14" && BenchReport.fixed2(2.0) == "2.00")
    }
}
