import Bench
import Foundation
import JSON
import Runtime
import Testing

/// The serving client against a scripted HTTP server on a real socket (the project's server gets its own
/// end-to-end test once it can start in-process): request bodies, SSE framing across chunk boundaries,
/// per-token timing and the aggregate run.
@Suite(.serialized) struct ServingClientTests {
    /// A native `/generate` stream: cumulative text, one event split across two HTTP chunks, a chunk that
    /// carries two tokens at once, and the final `[DONE]`.
    static let nativeStream = [
        "data: {\"text\":\"Hel\",\"meta_info\":{\"completion_tokens\":1}}\n\n",
        "data: {\"text\":\"Hello\",\"meta_",
        "info\":{\"completion_tokens\":2}}\n\n",
        "data: {\"text\":\"Hello wor\u{e9}\",\"meta_info\":{\"completion_tokens\":4}}\n\ndata: [DONE]\n\n",
    ]

    @Test func nativeBackendMeasuresAStream() async throws {
        let server = try ScriptedHTTPServer { _ in .init(pieces: Self.nativeStream) }
        defer { server.stop() }
        var options = ServingBenchmarkOptions()
        options.backend = .sglang
        options.baseURL = BenchURL(host: "127.0.0.1", port: server.port)
        let bench = ServingBenchmark(options: options)
        let row = DatasetRow(prompt: .text("Say hi"), promptLen: 3, outputLen: 4)
        let r = await bench.request(row, model: "default")
        #expect(r.success, "\(r.error)")
        #expect(r.generatedText == "Hello wor\u{e9}")
        #expect(r.outputLen == 4)
        #expect(r.promptLen == 3)
        // Three text events: the first is TTFT, then one gap for one token and one gap split over two tokens.
        #expect(r.itl.count == 3)
        #expect(r.itl[1] == r.itl[2])
        #expect(r.ttft > 0 && r.ttft <= r.latency)
        #expect(r.ttft + r.itl.reduce(0, +) <= r.latency + 1e-9)
        // The request SGLang's client sends.
        let request = try #require(server.received.first)
        #expect(request.hasPrefix("POST /generate HTTP/1.1\r\n"))
        let body = try JSONValue.parse(String(request[request.range(of: "\r\n\r\n")!.upperBound...]))
        #expect(body["text"]?.stringValue == "Say hi")
        #expect(body["sampling_params"]?["max_new_tokens"]?.intValue == 4)
        #expect(body["sampling_params"]?["temperature"]?.doubleValue == 0)
        #expect(body["sampling_params"]?["ignore_eos"]?.boolValue == true)
        #expect(body["stream"]?.boolValue == true)
    }

    @Test func openAIChatDeltasAndUsage() async throws {
        let pieces = [
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"is\"}}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n",
        ]
        let server = try ScriptedHTTPServer { _ in .init(pieces: pieces) }
        defer { server.stop() }
        var options = ServingBenchmarkOptions()
        options.backend = .sglangOAIChat
        options.baseURL = BenchURL(host: "127.0.0.1", port: server.port)
        let r = await ServingBenchmark(options: options).request(
            DatasetRow(prompt: .text("Capital of France?"), promptLen: 9, outputLen: 16), model: "m")
        #expect(r.success, "\(r.error)")
        #expect(r.generatedText == "Paris")
        #expect(r.outputLen == 2)
        #expect(r.itl.count == 1)
        let request = try #require(server.received.first)
        #expect(request.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        let body = try JSONValue.parse(String(request[request.range(of: "\r\n\r\n")!.upperBound...]))
        #expect(body["messages"]?.arrayValue?.first?["content"]?.stringValue == "Capital of France?")
        #expect(body["max_tokens"]?.intValue == 16)
        #expect(body["model"]?.stringValue == "m")
    }

    @Test func errorsAndRefusedConnectionsAreFailedRequests() async throws {
        let server = try ScriptedHTTPServer { _ in .init(status: 400, pieces: ["{\"error\":\"bad\"}"]) }
        var options = ServingBenchmarkOptions()
        options.baseURL = BenchURL(host: "127.0.0.1", port: server.port)
        let row = DatasetRow(prompt: .ids([1, 2, 3]), promptLen: 3, outputLen: 2)
        let r = await ServingBenchmark(options: options).request(row, model: "default")
        #expect(!r.success)
        #expect(r.error.contains("400"))
        server.stop()
        // Nothing listens there any more.
        let refused = await ServingBenchmark(options: options).request(row, model: "default")
        #expect(!refused.success && !refused.error.isEmpty)
    }

    @Test func aRunWithPoissonArrivalsAndAConcurrencyLimit() async throws {
        let server = try ScriptedHTTPServer { _ in .init(pieces: Self.nativeStream, pause: 0.005) }
        defer { server.stop() }
        var options = ServingBenchmarkOptions()
        options.baseURL = BenchURL(host: "127.0.0.1", port: server.port)
        options.requestRate = 200
        options.maxConcurrency = 2
        let rows = (0..<5).map { DatasetRow(prompt: .ids([$0 + 1]), promptLen: 10 + $0, outputLen: 4) }
        let result = try await ServingBenchmark(options: options).run(
            rows: rows, retokenize: { $0.split(separator: " ").count }, log: { _ in })
        #expect(result.metrics.completed == 5)
        #expect(result.metrics.totalInput == 10 + 11 + 12 + 13 + 14)
        #expect(result.metrics.totalOutput == 20)
        #expect(result.metrics.totalOutputRetokenized == 10)  // "Hello woré" is two words, five times
        #expect(result.maxConcurrentRequests <= 2)
        // The warm-up request plus the five measured ones, ids sent as input_ids.
        #expect(server.received.count == 6)
        #expect(server.received.allSatisfy { $0.contains("\"input_ids\":") })
        let lines = result.summaryLines
        #expect(lines.contains(BenchReport.row("Successful requests:", 5)))
        #expect(lines.contains(BenchReport.row("Max request concurrency:", "2")))
        let record = result.json(extra: [("dataset_name", .string("random"))])
        #expect(record["completed"]?.intValue == 5)
        #expect(record["dataset_name"]?.stringValue == "random")
    }
}
