import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// Malformed and hostile requests each get the right 4xx and error shape; afterwards the server still
    /// generates and no KV slot is leaked.
    @Suite struct HostileRequestServerTests {
        enum Shape { case native, openAI, unauthorized }

        struct Case: CustomStringConvertible {
            var name: String
            var method = "POST"
            var path: String
            var body: [UInt8]?
            var status: Int
            var shape: Shape
            var key: String? = "k"
            var description: String { name }
        }

        static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

        static func generate(_ name: String, _ body: String, _ status: Int = 400) -> Case {
            Case(name: name, path: "/generate", body: json(body), status: status, shape: .native)
        }

        static func completion(_ name: String, _ body: String, _ status: Int = 400) -> Case {
            Case(name: name, path: "/v1/completions", body: json(body), status: status, shape: .openAI)
        }

        static func chat(_ name: String, _ body: String, _ status: Int = 400) -> Case {
            Case(name: name, path: "/v1/chat/completions", body: json(body), status: status, shape: .openAI)
        }

        static let longPrompt = "[" + Array(repeating: "1", count: 9000).joined(separator: ",") + "]"

        static let cases: [Case] = [
            generate("truncated JSON", #"{"text": "hi""#),
            Case(name: "empty body", path: "/generate", body: [], status: 400, shape: .native),
            generate("body is an array", "[1, 2]"),
            generate("no prompt", "{}"),
            generate("text is a number", #"{"text": 5}"#),
            generate("text and input_ids", #"{"text": "a", "input_ids": [1]}"#),
            generate("sampling_params is a string", #"{"text": "a", "sampling_params": "x"}"#),
            generate("negative max_new_tokens", #"{"text": "a", "sampling_params": {"max_new_tokens": -1}}"#),
            generate("max_new_tokens is a string", #"{"text": "a", "sampling_params": {"max_new_tokens": "ten"}}"#),
            generate("huge max_new_tokens", #"{"text": "a", "sampling_params": {"max_new_tokens": 9223372036854775807}}"#),
            generate("negative temperature", #"{"text": "a", "sampling_params": {"temperature": -1}}"#),
            generate("top_p zero", #"{"text": "a", "sampling_params": {"top_p": 0}}"#),
            generate("top_k zero", #"{"text": "a", "sampling_params": {"top_k": 0}}"#),
            generate("negative token id", #"{"input_ids": [-1]}"#),
            generate("token id beyond the vocabulary", #"{"input_ids": [1000000000]}"#),
            generate("empty input_ids", #"{"input_ids": []}"#),
            generate("empty text batch", #"{"text": []}"#),
            generate("prompt beyond the context", #"{"input_ids": \#(longPrompt)}"#),
            generate("invalid regex", #"{"text": "a", "sampling_params": {"regex": "(ab"}}"#),
            generate("regex and json_schema", #"{"text": "a", "sampling_params": {"regex": "a", "json_schema": "{}"}}"#),
            Case(name: "bad UTF-8", path: "/generate", body: [0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D],
                 status: 400, shape: .native),
            Case(name: "huge body", path: "/generate",
                 body: json(#"{"text": ""# + String(repeating: "a", count: 100_000) + #""}"#), status: 413, shape: .native),
            generate("deeply nested JSON", String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)),
            generate("n zero", #"{"text": "a", "sampling_params": {"n": 0}}"#),
            generate("n huge", #"{"text": "a", "sampling_params": {"n": 100000}}"#),
            generate("rid list for one prompt", #"{"text": "a", "rid": ["x", "y"]}"#),
            generate("logprob_start_len below -1", #"{"text": "a", "logprob_start_len": -5}"#),
            generate("negative top_logprobs_num", #"{"text": "a", "return_logprob": true, "top_logprobs_num": -1}"#),
            generate("timeout expires", #"{"text": "a", "timeout": 0.000001, "sampling_params": {"max_new_tokens": 500, "ignore_eos": true}}"#, 408),
            generate("image input", #"{"text": "a", "image_data": "aGVsbG8="}"#),
            Case(name: "unknown route", path: "/no/such/route", body: json("{}"), status: 404, shape: .native),
            Case(name: "wrong method", method: "DELETE", path: "/generate", body: nil, status: 404, shape: .native),
            completion("completion without prompt", "{}"),
            completion("unknown model", #"{"model": "gpt-9", "prompt": "a"}"#, 404),
            completion("negative max_tokens", #"{"prompt": "a", "max_tokens": -1}"#),
            completion("max_tokens beyond the context", #"{"prompt": "a", "max_tokens": 1000000000}"#),
            completion("prompt of mixed types", #"{"prompt": ["a", 1]}"#),
            completion("logprobs out of range", #"{"prompt": "a", "logprobs": 50}"#),
            completion("empty stop string", #"{"prompt": "a", "stop": [""]}"#),
            completion("logit_bias key not an id", #"{"prompt": "a", "logit_bias": {"abc": 1}}"#),
            completion("bad JSON", #"{"prompt": "#),
            chat("no messages", #"{"messages": []}"#),
            chat("messages is a string", #"{"messages": "hi"}"#),
            chat("unknown role", #"{"messages": [{"role": "wizard", "content": "x"}]}"#),
            chat("image content", #"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#),
            chat("too many top_logprobs", #"{"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 50}"#),
            chat("unknown response_format", #"{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "xml"}}"#),
            chat("temperature is a string", #"{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}"#),
            Case(name: "embeddings without an embedding model", path: "/v1/embeddings", body: json(#"{"input": "a"}"#),
                 status: 400, shape: .openAI),
            Case(name: "wrong API key", path: "/generate", body: json(#"{"text": "a"}"#), status: 401, shape: .unauthorized, key: "nope"),
            Case(name: "missing API key", path: "/v1/models", body: nil, status: 401, shape: .unauthorized, key: nil),
        ]

        func check(_ c: Case, _ r: CurlResult) {
            #expect(r.status == c.status, "\(c.name): status \(r.status), body \(r.text.prefix(300))")
            guard let json = r.json else {
                Issue.record("\(c.name): the error body is not JSON: \(r.text.prefix(300))")
                return
            }
            switch c.shape {
            case .native:
                let message = json["error"]?["message"]?.stringValue ?? ""
                #expect(!message.isEmpty && json.objectValue?.count == 1, "\(c.name): \(r.text.prefix(300))")
            case .openAI:
                #expect(json["object"]?.stringValue == "error", "\(c.name): \(r.text.prefix(300))")
                let message = json["message"]?.stringValue ?? ""
                #expect(!message.isEmpty, "\(c.name)")
                #expect(json["code"]?.intValue == c.status, "\(c.name)")
                #expect(json["type"]?.stringValue != nil && json["param"] != nil, "\(c.name)")
            case .unauthorized:
                #expect(json == obj(("error", str("Unauthorized"))), "\(c.name)")
            }
        }

        @Test func everyHostileRequestGetsItsErrorAndNothingLeaks() async throws {
            #expect(Self.cases.count >= 30)
            try await ServerFixture.withServer({
                $0.apiKey = "k"
                $0.maxRequestBodyBytes = 64 << 10
            }) { server in
                for c in Self.cases {
                    var headers = ["Content-Type: application/json"]
                    if let key = c.key { headers.append("Authorization: Bearer \(key)") }
                    let r = try await Curl.request(ServerFixture.url(server, c.path), method: c.method, body: c.body, headers: headers)
                    check(c, r)
                }
                // Field-level messages name the field.
                let r = try await Curl.request(ServerFixture.url(server, "/v1/completions"), body: Self.json(#"{"prompt": "a", "max_tokens": -3}"#),
                                         headers: ["Content-Type: application/json", "Authorization: Bearer k"])
                #expect(r.json?["message"]?.stringValue == "max_tokens must be an integer ≥ 0, found -3")
                #expect(r.json?["param"]?.stringValue == "max_tokens")
                // /health needs no key; the server still generates.
                #expect(try await Curl.get(ServerFixture.url(server, "/health")).status == 200)
                let health = try await Curl.get(ServerFixture.url(server, "/health_generate"), headers: ["Authorization: Bearer k"])
                #expect(health.status == 200)
                try await expectIdleWithoutLeaks(server)
            }
        }
    }
}

/// Waits until the engine is idle, then checks that every KV slot is free or cached (none leaked).
func expectIdleWithoutLeaks(_ server: SGLangServer) async throws {
    var stats = await server.engine.stats()
    var polls = 0
    while stats.runningRequests + stats.waitingRequests > 0 && polls < 600 {
        try await Task.sleep(for: .milliseconds(100))
        stats = await server.engine.stats()
        polls += 1
    }
    #expect(stats.runningRequests == 0 && stats.waitingRequests == 0, "the engine never became idle")
    let problem = await server.engine.checkMemory()
    #expect(problem == nil, "\(problem ?? "")")
    #expect(stats.availableTokens + stats.evictableTokens == stats.maxTotalTokens,
            "available \(stats.availableTokens) + evictable \(stats.evictableTokens) != \(stats.maxTotalTokens)")
    #expect(stats.protectedTokens == 0)
}
