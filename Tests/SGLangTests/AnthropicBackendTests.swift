import Foundation
import JSON
@testable import SGLang
import Testing

/// The Anthropic backend against a scripted local server (the real API cannot be reached here): every request
/// is checked byte for byte against the Messages API's documented shape, and the answers are written in the
/// documented response and SSE formats.
@Suite struct AnthropicBackendTests {
    static let model = "claude-3-5-haiku-latest"

    /// The exact request the backend must send: head (as Bench's client writes it) and JSON body.
    static func expectedRequest(port: Int, body: String) -> String {
        "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nAccept: */*\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "x-api-key: test-key\r\nanthropic-version: 2023-06-01\r\n\r\n" + body
    }

    static func json(_ body: String, status: Int = 200) -> ScriptedAPIServer.Script {
        let mid = body.utf8.count / 2
        let cut = body.utf8.index(body.utf8.startIndex, offsetBy: mid)
        return ScriptedAPIServer.Script(status: status, pieces: [String(body[..<cut]), String(body[cut...])])
    }

    static func backend(_ server: ScriptedAPIServer, retries: Int = 1) throws -> Anthropic {
        try Anthropic(model: model, apiKey: "test-key", baseURL: server.url, retries: retries,
                      retryDelay: .milliseconds(10))
    }

    /// A chat program: the system message goes to `system`, the others to `messages`, sampling to
    /// `max_tokens` / `stop_sequences` / `temperature` / `top_p` / `top_k`; the answer's text blocks become the gen.
    @Test func chatProgramRequestAndResponse() async throws {
        let answer = #"{"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","#
            + #""content":[{"type":"text","text":"Paris is the "},{"type":"text","text":"capital."}],"#
            + #""stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":21,"output_tokens":6}}"#
        let server = try ScriptedAPIServer { _, _ in Self.json(answer) }
        defer { server.stop() }
        let backend = try Self.backend(server)
        let state = try await SGLFunction { s in
            s += system("You are terse.")
            s += user("What is the capital of France?")
            s += assistant(gen("a", maxTokens: 32, stop: ["\n\nHuman:"], topP: 0.9, topK: 40))
        }.run(defaults: SamplingParameters(temperature: 0.5), backend: backend)
        #expect(await state.error() == nil)
        let body = #"{"model":"claude-3-5-haiku-latest","max_tokens":32,"system":"You are terse.","#
            + #""messages":[{"role":"user","content":"What is the capital of France?"}],"#
            + #""stop_sequences":["\n\nHuman:"],"temperature":0.5,"top_p":0.9,"top_k":40}"#
        #expect(server.received == [Self.expectedRequest(port: server.port, body: body)])
        #expect(try await state["a"] == "Paris is the capital.")
        // The "claude" template: system "", user "\n\nHuman: ", assistant "\n\nAssistant:" (spec §1.13).
        #expect(await state.text()
                == "You are terse.\n\nHuman: What is the capital of France?\n\nAssistant:Paris is the capital.")
        let meta = try #require(try await state.metaInfo("a"))
        #expect(meta["id"]?.stringValue == "msg_01")
        #expect(meta["stop_reason"]?.stringValue == "end_turn")
        #expect(meta["prompt_tokens"]?.intValue == 21 && meta["completion_tokens"]?.intValue == 6)
        #expect(backend.tokenUsage == Anthropic.TokenUsage(inputTokens: 21, outputTokens: 6))
    }

    /// Without messages the text is one user message and there is no `system` field; default top_p and
    /// top_k are left out.
    @Test func plainTextIsOneUserMessage() async throws {
        let answer = #"{"id":"msg_02","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","#
            + #""content":[{"type":"text","text":" An old pond"}],"stop_reason":"max_tokens","stop_sequence":null,"#
            + #""usage":{"input_tokens":5,"output_tokens":4}}"#
        let server = try ScriptedAPIServer { _, _ in Self.json(answer) }
        defer { server.stop() }
        let state = try await SGLFunction { s in
            s += "Write a haiku:" + gen("h", maxTokens: 4)
        }.run(backend: try Self.backend(server))
        #expect(await state.error() == nil)
        let body = #"{"model":"claude-3-5-haiku-latest","max_tokens":4,"#
            + #""messages":[{"role":"user","content":"Write a haiku:"}],"temperature":1.0}"#
        #expect(server.received == [Self.expectedRequest(port: server.port, body: body)])
        #expect(try await state["h"] == " An old pond")
        #expect(try await state.metaInfo("h")?["stop_reason"]?.stringValue == "max_tokens")
    }

    /// A streamed gen reads the SSE `content_block_delta` events (cut across chunks mid-line) and the final
    /// `message_delta`.
    @Test func streamingReadsContentBlockDeltas() async throws {
        let events = [
            ("message_start", #"{"type":"message_start","message":{"id":"msg_03","type":"message","role":"assistant","content":[],"model":"claude-3-5-haiku-latest","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("ping", #"{"type": "ping"}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo, wor"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ld \u00e9"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"!"},"usage":{"output_tokens":5}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ]
        let sse = events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined()
        let pieces = stride(from: 0, to: sse.utf8.count, by: 37).map { start -> String in
            let bytes = Array(sse.utf8)
            return String(decoding: bytes[start..<min(start + 37, bytes.count)], as: UTF8.self)
        }
        let server = try ScriptedAPIServer { _, _ in
            ScriptedAPIServer.Script(contentType: "text/event-stream", pieces: pieces, pause: 0.002)
        }
        defer { server.stop() }
        let backend = try Self.backend(server)
        let state = try await SGLFunction { s in
            s += user("Say hello.")
            s += assistant(gen("g", maxTokens: 16, stop: ["!"]))
        }.run(defaults: SamplingParameters(temperature: 0), stream: true, backend: backend)
        var streamed: [String] = []
        for await p in state.textStream(variable: "g") where !p.isEmpty { streamed.append(p) }
        #expect(await state.error() == nil)
        #expect(streamed == ["Hel", "lo, wor", "ld é"])
        #expect(try await state["g"] == "Hello, world é")
        let body = #"{"model":"claude-3-5-haiku-latest","max_tokens":16,"#
            + #""messages":[{"role":"user","content":"Say hello."}],"stop_sequences":["!"],"temperature":0.0,"#
            + #""stream":true}"#
        #expect(server.received == [Self.expectedRequest(port: server.port, body: body)])
        let meta = try #require(try await state.metaInfo("g"))
        #expect(meta["id"]?.stringValue == "msg_03")
        #expect(meta["stop_reason"]?.stringValue == "stop_sequence" && meta["stop_sequence"]?.stringValue == "!")
        #expect(meta["prompt_tokens"]?.intValue == 9 && meta["completion_tokens"]?.intValue == 5)
    }

    /// Errors: the status and the API's message; 529 (overloaded) is retried; a stream `error` event fails
    /// the gen; constrained gens and a missing key are refused.
    @Test func errorsAndRetries() async throws {
        let invalid = #"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be at least 1"}}"#
        let bad = try ScriptedAPIServer { _, _ in Self.json(invalid, status: 400) }
        defer { bad.stop() }
        let failed = try await SGLFunction { s in s += "Hi" + gen("x", maxTokens: 0) }.run(backend: try Self.backend(bad, retries: 3))
        let message = "\(try #require(await failed.error()))"
        #expect(message.contains("400") && message.contains("max_tokens: must be at least 1"), "\(message)")
        #expect(bad.received.count == 1)

        let overloaded = #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        let ok = #"{"id":"msg_04","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","#
            + #""content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"#
            + #""usage":{"input_tokens":3,"output_tokens":2}}"#
        let flaky = try ScriptedAPIServer { n, _ in n == 0 ? Self.json(overloaded, status: 529) : Self.json(ok) }
        defer { flaky.stop() }
        let retried = try await SGLFunction { s in s += "Hi" + gen("x", maxTokens: 8) }
            .run(backend: try Self.backend(flaky, retries: 3))
        #expect(await retried.error() == nil)
        #expect(try await retried["x"] == "Hi!")
        #expect(flaky.received.count == 2 && flaky.received[0] == flaky.received[1])

        let streamError = "event: error\ndata: " + overloaded + "\n\n"
        let broken = try ScriptedAPIServer { _, _ in
            ScriptedAPIServer.Script(contentType: "text/event-stream", pieces: [streamError])
        }
        defer { broken.stop() }
        let streamed = try await SGLFunction { s in s += "Hi" + gen("x", maxTokens: 8) }
            .run(stream: true, backend: try Self.backend(broken))
        for await _ in streamed.textStream() {}
        #expect("\(try #require(await streamed.error()))".contains("stream error: Overloaded"))

        let constrained = try await SGLFunction { s in s += "N:" + gen("n", regex: "[0-9]+") }
            .run(backend: try Self.backend(broken))
        #expect("\(try #require(await constrained.error()))".contains("no constrained decoding"))
        // The default base URL is Anthropic's own (https, TLS): constructing works without a network.
        #expect(try Anthropic(model: Self.model, apiKey: "k").modelName == Self.model)
        #expect(throws: SGLangError.self) { _ = try Anthropic(model: Self.model, apiKey: "", baseURL: "http://127.0.0.1:1") }
    }
}
