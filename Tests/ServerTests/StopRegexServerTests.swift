import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// `stop_regex` through the native and OpenAI APIs on SmolLM2.
    @Suite struct StopRegexServerTests {
        @Test func generationStopsAtTheFirstMatch() async throws {
            try await ServerFixture.withServer { server in
                let prompt = "List the numbers from 1 to 20, separated by commas:"
                let free = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str(prompt)), ("sampling_params", obj(("max_new_tokens", num(48)), ("temperature", .int(0))))))
                let freeIds = (free.json?["output_ids"]?.arrayValue ?? []).compactMap(\.intValue)
                let tokenizer = try #require(try ServerFixture.model().tokenizer)
                // The pattern: two consecutive numbers of the greedy text's first digits, found by ICU.
                let pattern = #"\d+, \d+"#
                let regex = try NSRegularExpression(pattern: pattern)
                var want: Int?
                for k in 1...freeIds.count where want == nil {
                    let text = tokenizer.decode(Array(freeIds[..<k]), skipSpecialTokens: true)
                    if regex.firstMatch(in: text, range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil { want = k }
                }
                let k = try #require(want, "the greedy text \(free.json?["text"]?.stringValue ?? "") has no match")
                let stopped = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str(prompt)), ("sampling_params", obj(("max_new_tokens", num(48)), ("temperature", .int(0)),
                                                                   ("stop_regex", str(pattern))))))
                #expect(stopped.status == 200)
                #expect((stopped.json?["output_ids"]?.arrayValue ?? []).compactMap(\.intValue) == Array(freeIds[..<k]))
                #expect(stopped.json?["meta_info"]?["finish_reason"] == obj(("type", str("stop")), ("matched", str(pattern))))
                // The pattern's characters are not in the text, so it is not trimmed (SGLang's behaviour).
                #expect(stopped.json?["text"]?.stringValue == tokenizer.decode(Array(freeIds[..<k]), skipSpecialTokens: true))

                // The OpenAI API takes it as an extension; finish_reason is "stop".
                let completion = try await Curl.post(ServerFixture.url(server, "/v1/completions"), json: obj(
                    ("prompt", str(prompt)), ("max_tokens", num(48)), ("temperature", .int(0)),
                    ("stop_regex", .array([str(pattern)]))))
                #expect(completion.json?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue == "stop")
                #expect(completion.json?["choices"]?.arrayValue?.first?["text"] == stopped.json?["text"])

                // An invalid pattern is a 400 that names it, and the server keeps serving.
                for bad in [str("(unclosed"), .int(3), .array([str("")])] {
                    let r = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                        ("text", str(prompt)), ("sampling_params", obj(("stop_regex", bad)))))
                    #expect(r.status == 400 && r.text.contains("stop_regex"), "\(bad.serialized()) → \(r.text)")
                }
                let after = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                    ("text", str(prompt)), ("sampling_params", obj(("max_new_tokens", num(2))))))
                #expect(after.status == 200)
            }
        }
    }
}
