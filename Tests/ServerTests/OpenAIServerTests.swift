import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// The OpenAI API driven by the official `openai` Python package (scripts/openai_client_check.py), and
    /// its SSE framing checked byte for byte with curl.
    @Suite struct OpenAIServerTests {
        /// Runs the client script; nil (with a recorded issue) when Python or the package is missing.
        func runClient(_ server: SGLangServer) async throws -> JSONValue? {
            let r = try await ChildProcess.run(
                ["python3", ServerFixture.repoRoot.appendingPathComponent("scripts/openai_client_check.py").path,
                 "http://127.0.0.1:\(server.port ?? 0)", server.arguments.modelName])
            guard r.status == 0 else {
                Issue.record("the openai client script failed (pip install openai?): \(String(decoding: r.stderr, as: UTF8.self).suffix(2000))")
                return nil
            }
            return try JSONValue.parse(bytes: r.stdout)
        }

        @Test func officialClientCompletionsChatStreamingNAndLogprobs() async throws {
            try await ServerFixture.withServer({ $0.servedModelName = "smollm2"; $0.enableCacheReport = true }) { server in
                guard let r = try await runClient(server) else { return }
                // Completions: greedy text equals the native API's, logprobs line up with the tokens.
                let native = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str("The capital of France is")),
                    ("sampling_params", obj(("max_new_tokens", num(8)), ("temperature", .int(0))))))
                let completion = try #require(r["completion"])
                #expect(completion["text"] == native.json?["text"])
                #expect(completion["object"]?.stringValue == "text_completion")
                let tokens = completion["tokens"]?.arrayValue ?? []
                let completionTokens = completion["usage"]?["completion_tokens"]?.intValue ?? -1
                #expect(tokens.count == completionTokens)
                #expect(completion["token_logprobs"]?.arrayValue?.count == tokens.count)
                #expect((completion["top_logprobs"]?.arrayValue ?? []).allSatisfy { ($0.objectValue?.count ?? 0) >= 1 })
                // The chosen (greedy) token is the most likely one.
                for (lp, top) in zip(completion["token_logprobs"]?.arrayValue ?? [], completion["top_logprobs"]?.arrayValue ?? []) {
                    let best = (top.objectValue?.entries ?? []).compactMap(\.value.doubleValue).max() ?? .nan
                    #expect(abs((lp.doubleValue ?? .nan) - best) < 1e-9)
                }
                #expect(r["completion_stream"]?["text"] == completion["text"])
                #expect(r["completion_stream"]?["finish_reason"] == completion["finish_reason"])
                #expect(r["echo"]?.stringValue?.hasPrefix("Hello") == true)
                // n = 3: three choices; the prompt is counted once.
                let n = try #require(r["n"])
                #expect(n["indices"] == .array([num(0), num(1), num(2)]))
                let promptLen = try ServerFixture.model().tokenizer?.encode("Once upon a time").count ?? -1
                #expect(n["usage"]?["prompt_tokens"]?.intValue == promptLen)
                #expect(n["usage"]?["completion_tokens"]?.intValue == 18)
                // Chat: the France question answers Paris, streamed or not.
                let chat = try #require(r["chat"])
                #expect(chat["content"]?.stringValue?.contains("Paris") == true, "\(chat)")
                #expect(chat["role"]?.stringValue == "assistant")
                #expect(chat["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue != nil)
                let stream = try #require(r["chat_stream"])
                #expect(stream["content"] == chat["content"])
                #expect(stream["roles"] == .array([str("assistant")]))
                #expect(stream["finish_reason"] == chat["finish_reason"])
                #expect(stream["usage"]?["completion_tokens"] == chat["usage"]?["completion_tokens"])
                // Chat logprobs: one entry per token, two alternatives each, bytes are the token's UTF-8.
                let lps = r["chat_logprobs"]?.arrayValue ?? []
                #expect(lps.count == 4)
                #expect(lps.map { $0["token"]?.stringValue ?? "" }.joined() == r["chat_logprobs_text"]?.stringValue)
                for e in lps {
                    #expect(e["top"]?.arrayValue?.count == 2)
                    let token = e["token"]?.stringValue ?? ""
                    #expect(e["bytes"]?.arrayValue?.compactMap(\.intValue) == Array(token.utf8).map(Int.init))
                }
                #expect(r["models"] == .array([str("smollm2")]))
                #expect(r["errors"]?["unknown_model"]?.intValue == 404)
                #expect(r["errors"]?["negative_max_tokens"]?.arrayValue?.first?.intValue == 400)
            }
        }

        /// Chat streaming framed byte for byte: role chunk, content deltas, finish chunk, usage chunk, [DONE].
        @Test func chatStreamFramingIsExact() async throws {
            try await ServerFixture.withServer { server in
                let body = obj(
                    ("model", str("default")), ("messages", .array([obj(("role", str("user")), ("content", str("Say hi")))])),
                    ("max_tokens", num(6)), ("temperature", .int(0)), ("stream", .bool(true)),
                    ("stream_options", obj(("include_usage", .bool(true)))))
                let r = try await Curl.post(ServerFixture.url(server, "/v1/chat/completions"), json: body)
                #expect(r.status == 200)
                let events = try #require(sseEvents(r.body), "bad framing: \(r.text.debugDescription)")
                let chunks = try events.dropLast().map { try JSONValue.parse($0) }
                #expect(chunks.first?["choices"]?.arrayValue?.first?["delta"] == obj(("role", str("assistant")), ("content", str(""))))
                let usage = try #require(chunks.last)
                #expect(usage["choices"] == .array([]))
                let finish = chunks[chunks.count - 2]
                #expect(finish["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue != nil)
                #expect(chunks.allSatisfy { $0["object"]?.stringValue == "chat.completion.chunk" })
                #expect(Set(chunks.compactMap { $0["id"]?.stringValue }).count == 1)
                let text = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
                let plain = try await Curl.post(ServerFixture.url(server, "/v1/chat/completions"), json: obj(
                    ("messages", .array([obj(("role", str("user")), ("content", str("Say hi")))])),
                    ("max_tokens", num(6)), ("temperature", .int(0))))
                #expect(plain.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == text)
                #expect(usage["usage"]?["completion_tokens"] == plain.json?["usage"]?["completion_tokens"])
            }
        }
    }
}
