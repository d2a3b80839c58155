import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// SGLang's native API over curl against an in-process server with SmolLM2.
    @Suite struct NativeAPIServerTests {
        /// A greedy `/generate` equals the single-request `Generator` (an independent code path: no scheduler,
        /// no paged KV), and meta_info reports the counts and finish reason.
        @Test func greedyGenerateMatchesTheSingleRequestGenerator() async throws {
            try await ServerFixture.withServer { server in
                let prompt = "The capital of France is"
                let reply = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str(prompt)),
                    ("sampling_params", obj(("max_new_tokens", num(10)), ("temperature", .int(0)), ("ignore_eos", .bool(true)))),
                    ("rid", str("greedy-1"))))
                #expect(reply.status == 200, "\(reply.text)")
                let json = try #require(reply.json)
                let model = try ServerFixture.model()
                let reference = try TextGeneration.run(
                    TextGenerationRequest(prompt: prompt, params: SamplingParams(temperature: 0), maxNewTokens: 10, ignoreEOS: true),
                    model: model)
                #expect(json["output_ids"]?.arrayValue?.compactMap(\.intValue) == reference.result.outputIds)
                #expect(json["text"]?.stringValue == reference.text)
                let meta = try #require(json["meta_info"])
                #expect(meta["id"]?.stringValue == "greedy-1")
                #expect(meta["prompt_tokens"]?.intValue == model.tokenizer?.encode(prompt).count)
                #expect(meta["completion_tokens"]?.intValue == 10)
                #expect(meta["finish_reason"] == obj(("type", str("length")), ("length", num(10))))
                #expect((meta["e2e_latency"]?.doubleValue ?? -1) > 0)
            }
        }

        /// The stream is framed byte for byte as `data: {json}\n\n` … `data: [DONE]\n\n`, each chunk's text is
        /// cumulative, and the last chunk equals the non-streamed answer.
        @Test func streamFramingIsExactAndTextIsCumulative() async throws {
            try await ServerFixture.withServer { server in
                let params = obj(("max_new_tokens", num(12)), ("temperature", .int(0)), ("ignore_eos", .bool(true)))
                let plain = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str("List three colors:")), ("sampling_params", params)))
                let streamed = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str("List three colors:")), ("sampling_params", params), ("stream", .bool(true))))
                #expect(streamed.status == 200)
                let events = try #require(sseEvents(streamed.body), "bad SSE framing: \(streamed.text.debugDescription)")
                let chunks = try events.dropLast().map { try JSONValue.parse($0) }
                #expect(chunks.count >= 2)
                var previous = ""
                for (i, chunk) in chunks.enumerated() {
                    let text = chunk["text"]?.stringValue ?? "<missing>"
                    #expect(text.hasPrefix(previous), "chunk \(i) is not cumulative")
                    previous = text
                    let finish = chunk["meta_info"]?["finish_reason"]
                    #expect((finish?.isNull ?? false) == (i < chunks.count - 1), "finish_reason only on the last chunk")
                }
                let final = try #require(chunks.last)
                #expect(final["text"] == plain.json?["text"])
                #expect(final["output_ids"] == plain.json?["output_ids"])
                #expect(final["meta_info"]?["completion_tokens"]?.intValue == 12)
            }
        }

        /// A batch answers a list in input order, each item as its prompt alone; n > 1 gives n samples with
        /// SGLang's rids; token-id prompts work like text.
        @Test func batchesParallelSamplesAndTokenIds() async throws {
            try await ServerFixture.withServer { server in
                let url = ServerFixture.url(server, "/generate")
                let params = obj(("max_new_tokens", num(6)), ("temperature", .int(0)), ("ignore_eos", .bool(true)))
                let prompts = ["Hello, my name is", "The sky is"]
                var singles: [CurlResult] = []
                for p in prompts { singles.append(try await Curl.post(url, json: obj(("text", str(p)), ("sampling_params", params)))) }
                let batch = try await Curl.post(url, json: obj(("text", .array(prompts.map(str))), ("sampling_params", params)))
                let items = try #require(batch.json?.arrayValue)
                #expect(items.count == 2)
                for (item, single) in zip(items, singles) {
                    #expect(item["text"] == single.json?["text"])
                    #expect(item["output_ids"] == single.json?["output_ids"])
                }
                let tokenizer = try #require(try ServerFixture.model().tokenizer)
                let byIds = try await Curl.post(url, json: obj(("input_ids", ids(tokenizer.encode(prompts[0]))), ("sampling_params", params)))
                #expect(byIds.json?["output_ids"] == singles[0].json?["output_ids"])

                let sampled = try await Curl.post(url, json: obj(
                    ("text", str("Once upon a time")), ("rid", str("par")),
                    ("sampling_params", obj(("max_new_tokens", num(5)), ("temperature", .double(1.0)), ("n", num(3)),
                                            ("ignore_eos", .bool(true)), ("sampling_seed", num(5))))))
                let samples = try #require(sampled.json?.arrayValue, "\(sampled.text)")
                #expect(samples.map { $0["meta_info"]?["id"]?.stringValue } == ["par", "par-1", "par-2"])
                #expect(samples.allSatisfy { $0["meta_info"]?["completion_tokens"]?.intValue == 5 })
                // The warm-up request cached the prompt, so the samples reuse it.
                #expect(samples.allSatisfy { ($0["meta_info"]?["cached_tokens"]?.intValue ?? 0) > 0 })
            }
        }

        /// Prompt logprobs (`logprob_start_len` 0, `max_new_tokens` 0, as the frontend's `select` asks) match
        /// transformers' next-token logprobs of the fixture within the quantized model's tolerance.
        @Test func promptLogprobsMatchTransformers() async throws {
            try await ServerFixture.withServer { server in
                let path = ServerFixture.repoRoot.deletingLastPathComponent().appendingPathComponent(
                    "shared/fixtures/smollm2/prompt_logprobs.jsonl").path
                let line = try #require(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first)
                let row = try JSONValue.parse(String(line))
                let promptIds = (row["ids"]?.arrayValue ?? []).compactMap(\.intValue)
                let expected = (row["next_token_logprobs"]?.arrayValue ?? []).compactMap(\.doubleValue)
                let reply = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("input_ids", ids(promptIds)), ("sampling_params", obj(("max_new_tokens", num(0)))),
                    ("return_logprob", .bool(true)), ("logprob_start_len", num(0)), ("top_logprobs_num", num(2)),
                    ("return_text_in_logprobs", .bool(true))))
                let meta = try #require(reply.json?["meta_info"], "\(reply.text)")
                let entries = try #require(meta["input_token_logprobs"]?.arrayValue)
                #expect(entries.count == promptIds.count)
                #expect(entries.first?.arrayValue?.first?.isNull == true)
                for (i, entry) in entries.enumerated().dropFirst() {
                    let e = entry.arrayValue ?? []
                    #expect(e.count == 3 && e[1].intValue == promptIds[i] && e[2].stringValue != nil)
                    let lp = e.first?.doubleValue ?? .nan
                    #expect(abs(lp - expected[i - 1]) < 5e-2, "position \(i): \(lp) vs \(expected[i - 1])")
                }
                #expect((meta["input_top_logprobs"]?.arrayValue?.count ?? 0) == promptIds.count)
                #expect(meta["output_token_logprobs"]?.arrayValue?.isEmpty == true)
                let mean = entries.dropFirst().compactMap { $0.arrayValue?.first?.doubleValue }.reduce(0, +) / Double(entries.count - 1)
                #expect(abs((meta["normalized_prompt_logprob"]?.doubleValue ?? .nan) - mean) < 1e-6)
            }
        }

        /// Model and server info, tokenize/detokenize against the tokenizer, flush_cache, health, models.
        @Test func infoTokenizeFlushAndHealth() async throws {
            try await ServerFixture.withServer({ $0.servedModelName = "smollm2" }) { server in
                let tokenizer = try #require(try ServerFixture.model().tokenizer)
                let info = try await Curl.get(ServerFixture.url(server, "/get_model_info"))
                #expect(info.json?["model_path"]?.stringValue == ServerFixture.smolLM2Path)
                #expect(info.json?["is_generation"] == .bool(true))
                let serverInfo = try #require(await Curl.get(ServerFixture.url(server, "/server_info")).json)
                #expect(serverInfo["served_model_name"]?.stringValue == "smollm2")
                #expect(serverInfo["tp_size"]?.intValue == 1 && serverInfo["base_gpu_id"]?.intValue == 0)
                #expect(serverInfo["max_total_num_tokens"]?.intValue == server.engine.maxTotalTokens)
                #expect(serverInfo["internal_states"]?.arrayValue?.first?["available_tokens"]?.intValue != nil)
                let text = "Hello world, <|im_start|>user"
                let tok = try await Curl.post(ServerFixture.url(server, "/tokenize"), json: obj(("prompt", str(text))))
                #expect(tok.json?["tokens"]?.arrayValue?.compactMap(\.intValue) == tokenizer.encode(text))
                #expect(tok.json?["count"]?.intValue == tokenizer.encode(text).count)
                let detok = try await Curl.post(ServerFixture.url(server, "/detokenize"), json: obj(("tokens", ids(tokenizer.encode(text)))))
                #expect(detok.json?["text"]?.stringValue == tokenizer.decode(tokenizer.encode(text)))
                let flush = try await Curl.get(ServerFixture.url(server, "/flush_cache"))
                #expect(flush.status == 200 && flush.text.hasPrefix("Cache flushed"))
                #expect(try await Curl.get(ServerFixture.url(server, "/health")).status == 200)
                #expect(try await Curl.get(ServerFixture.url(server, "/health_generate")).status == 200)
                let models = try await Curl.get(ServerFixture.url(server, "/v1/models"))
                #expect(models.json?["data"]?.arrayValue?.first?["id"]?.stringValue == "smollm2")
            }
        }

        /// `--api-key` guards everything but /health; `--enable-metrics` serves Prometheus text with SGLang's names.
        @Test func apiKeyAndMetrics() async throws {
            try await ServerFixture.withServer({
                $0.apiKey = "secret"
                $0.enableMetrics = true
            }) { server in
                let auth = ["Content-Type: application/json", "Authorization: Bearer secret"]
                #expect(try await Curl.get(ServerFixture.url(server, "/health")).status == 200)
                let denied = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(("text", str("Hi"))))
                #expect(denied.status == 401)
                #expect(denied.json == obj(("error", str("Unauthorized"))))
                let ok = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str("Hi")), ("sampling_params", obj(("max_new_tokens", num(3)), ("ignore_eos", .bool(true))))),
                    headers: auth)
                #expect(ok.status == 200)
                #expect(try await Curl.get(ServerFixture.url(server, "/metrics")).status == 401)
                let metrics = try await Curl.get(ServerFixture.url(server, "/metrics"), headers: auth)
                #expect(metrics.status == 200)
                let line = metrics.text.split(separator: "\n").first { $0.hasPrefix("sglang:generation_tokens_total{") }
                let value = line.flatMap { Double($0.split(separator: " ").last ?? "") }
                #expect(value == 3, "\(metrics.text)")
                #expect(metrics.text.contains("sglang:num_running_reqs"))
            }
        }
    }
}
