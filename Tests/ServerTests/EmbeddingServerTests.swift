import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// `/encode` and `/v1/embeddings` on SmolLM2 served with `--is-embedding`, driven by curl and the official
    /// `openai` package.
    @Suite struct EmbeddingServerTests {
        static let embedder: Result<LoadedModel, any Error> = Result {
            try ModelLoader.load(path: ServerFixture.smolLM2Path, isEmbedding: true)
        }

        func withEmbeddingServer(_ body: (SGLangServer) async throws -> Void) async throws {
            try await ServerFixture.withServer(loaded: try Self.embedder.get(), {
                $0.maxTotalTokens = 4096
                $0.servedModelName = "smollm2-embed"
                $0.isEmbedding = true
            }, body)
        }

        static func vector(_ v: JSONValue?) -> [Double] { (v?.arrayValue ?? []).compactMap(\.doubleValue) }
        static func norm(_ v: [Double]) -> Double { v.map { $0 * $0 }.reduce(0, +).squareRoot() }
        static func distance(_ a: [Double], _ b: [Double]) -> Double {
            a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? 0 : .infinity
        }

        @Test func officialClientGetsTheVectorsCurlGets() async throws {
            try await withEmbeddingServer { server in
                let r = try await ChildProcess.run(
                    ["python3", ServerFixture.repoRoot.appendingPathComponent("scripts/openai_embeddings_check.py").path,
                     "http://127.0.0.1:\(server.port ?? 0)", "smollm2-embed"])
                guard r.status == 0 else {
                    Issue.record("the openai embeddings script failed: \(String(decoding: r.stderr, as: UTF8.self).suffix(2000))")
                    return
                }
                let out = try JSONValue.parse(bytes: r.stdout)
                let texts = ["The capital of France is Paris.", "Swift is a programming language.", "Hello"]
                let tokenizer = try #require(try Self.embedder.get().tokenizer)
                let hidden = try Self.embedder.get().config.hiddenSize

                // The client's default (base64) vectors: unit norm, the model's width, in input order.
                let vectors = (out["default"]?["vectors"]?.arrayValue ?? []).map(Self.vector)
                #expect(vectors.count == 3)
                for v in vectors { #expect(v.count == hidden && abs(Self.norm(v) - 1) < 1e-5) }
                #expect(out["default"]?["indices"] == .array([.int(0), .int(1), .int(2)]))
                #expect(out["default"]?["object"]?.stringValue == "list")
                #expect(out["default"]?["model"]?.stringValue == "smollm2-embed")
                let tokens = texts.map { tokenizer.encode($0).count }.reduce(0, +)
                #expect(out["default"]?["usage"]?["prompt_tokens"]?.intValue == tokens)
                #expect(out["default"]?["usage"]?["total_tokens"]?.intValue == tokens)
                // Distinct texts give distinct vectors.
                #expect(Self.distance(vectors[0], vectors[1]) > 1e-3)

                // curl with floats: the same vectors (other batch compositions may round differently).
                let curl = try await Curl.post(ServerFixture.url(server, "/v1/embeddings"), json: obj(
                    ("model", str("smollm2-embed")), ("input", .array(texts.map(JSONValue.string))),
                    ("encoding_format", str("float"))))
                #expect(curl.status == 200)
                let curlVectors = (curl.json?["data"]?.arrayValue ?? []).map { Self.vector($0["embedding"]) }
                #expect(curlVectors.count == 3)
                for (a, b) in zip(vectors, curlVectors) { #expect(Self.distance(a, b) < 1e-4) }
                let single = (out["float_single"]?.arrayValue ?? []).map(Self.vector)
                #expect(single.count == 1 && Self.distance(single[0], vectors[0]) < 1e-4)
                let fromIds = (out["ids"]?.arrayValue ?? []).map(Self.vector)
                #expect(fromIds.count == 2 && fromIds.allSatisfy { $0.count == hidden })

                // The client sees the server's errors as its exceptions.
                #expect(out["errors"]?["dimensions"]?.intValue == 400)
                #expect(out["errors"]?["empty"]?.intValue == 400)
                #expect(out["errors"]?["unknown_model"]?.intValue == 404)
            }
        }

        @Test func nativeEncodeBatchesCachesAndRefusesGeneration() async throws {
            try await withEmbeddingServer { server in
                let url = ServerFixture.url(server, "/encode")
                let one = try await Curl.post(url, json: obj(("text", str("The capital of France is Paris."))))
                #expect(one.status == 200)
                let e = Self.vector(one.json?["embedding"])
                #expect(abs(Self.norm(e) - 1) < 1e-5)
                let promptTokens = one.json?["meta_info"]?["prompt_tokens"]?.intValue ?? 0
                #expect(promptTokens > 1)
                // The same text again: all but the last token from the radix cache, the same vector.
                let again = try await Curl.post(url, json: obj(("text", str("The capital of France is Paris."))))
                #expect(again.json?["meta_info"]?["cached_tokens"]?.intValue == promptTokens - 1)
                #expect(Self.distance(Self.vector(again.json?["embedding"]), e) < 1e-4)
                // /v1/embeddings agrees.
                let openai = try await Curl.post(ServerFixture.url(server, "/v1/embeddings"), json: obj(
                    ("input", str("The capital of France is Paris.")), ("encoding_format", str("float"))))
                #expect(Self.distance(Self.vector(openai.json?["data"]?.arrayValue?.first?["embedding"]), e) < 1e-4)

                // Batches: a list answers a list, with the given rids; ids work like text.
                let batch = try await Curl.post(url, json: obj(
                    ("text", .array([str("The capital of France is Paris."), str("Hello")])),
                    ("rid", .array([str("r1"), str("r2")]))))
                let items = batch.json?.arrayValue ?? []
                #expect(items.count == 2)
                #expect(items.map { $0["meta_info"]?["id"]?.stringValue ?? "" } == ["r1", "r2"])
                #expect(Self.distance(Self.vector(items.first?["embedding"]), e) < 1e-4)
                let byIds = try await Curl.post(url, json: obj(("input_ids", .array([ids([1, 2, 3]), ids([4])]))))
                #expect(byIds.json?.arrayValue?.count == 2)

                // Bad input is a 400 and the server keeps serving.
                for bad in [obj(("text", .int(5))), obj(("rid", str("x"))), obj(("input_ids", ids([999_999]))),
                            obj(("text", str(String(repeating: "word ", count: 5000))))] {
                    let r = try await Curl.post(url, json: bad)
                    #expect(r.status == 400, "\(bad.serialized()) → \(r.status)")
                }
                let malformed = try await Curl.request(url, body: Array("{\"text\": ".utf8))
                #expect(malformed.status == 400)
                let generate = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(("text", str("Hi"))))
                #expect(generate.status == 400 && generate.text.contains("embedding model"))
                let chat = try await Curl.post(ServerFixture.url(server, "/v1/chat/completions"), json: obj(
                    ("messages", .array([obj(("role", str("user")), ("content", str("Hi")))]))))
                #expect(chat.status == 400)

                let info = try await Curl.get(ServerFixture.url(server, "/model_info"))
                #expect(info.json?["is_generation"] == .bool(false))
                let serverInfo = try await Curl.get(ServerFixture.url(server, "/server_info"))
                #expect(serverInfo.json?["is_embedding"] == .bool(true))
                #expect(serverInfo.json?["internal_states"]?.arrayValue?.first?["memory_check"]?.isNull == true)
                let health = try await Curl.get(ServerFixture.url(server, "/health_generate"))
                #expect(health.status == 200)
                let after = try await Curl.post(url, json: obj(("text", str("Hello"))))
                #expect(after.status == 200)
            }
        }

        /// A generation server says how to get embeddings.
        @Test func generationServerRefusesEmbeddings() async throws {
            try await ServerFixture.withServer { server in
                for path in ["/v1/embeddings", "/encode"] {
                    let r = try await Curl.post(ServerFixture.url(server, path), json: obj(("input", str("Hi")), ("text", str("Hi"))))
                    #expect(r.status == 400 && r.text.contains("--is-embedding"), "\(path): \(r.text)")
                }
            }
        }
    }
}
