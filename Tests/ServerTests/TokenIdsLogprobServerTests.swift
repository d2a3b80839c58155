import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// `token_ids_logprob` through `/generate` on SmolLM2: `[logprob, id, text]` per position for the listed ids,
    /// equal to the same ids' entries among the top logprobs.
    @Suite struct TokenIdsLogprobServerTests {
        @Test func listedIdsComeBackPerPosition() async throws {
            try await ServerFixture.withServer { server in
                let url = ServerFixture.url(server, "/generate")
                let prompt = "The capital of France is"
                let sp = obj(("max_new_tokens", num(4)), ("temperature", .int(0)))
                let top = try await Curl.post(url, json: obj(("text", str(prompt)), ("sampling_params", sp),
                                                             ("return_logprob", .bool(true)), ("top_logprobs_num", num(5))))
                let tops = top.json?["meta_info"]?["output_top_logprobs"]?.arrayValue ?? []
                #expect(tops.count == 4)
                // The ids of the first position's top 5, listed.
                let firstTop = tops.first?.arrayValue ?? []
                let listed = firstTop.compactMap { $0.arrayValue?[1].intValue }
                #expect(listed.count == 5)
                let r = try await Curl.post(url, json: obj(("text", str(prompt)), ("sampling_params", sp),
                                                           ("return_logprob", .bool(true)), ("return_text_in_logprobs", .bool(true)),
                                                           ("token_ids_logprob", ids(listed))))
                #expect(r.status == 200)
                let outputs = r.json?["meta_info"]?["output_token_ids_logprobs"]?.arrayValue ?? []
                #expect(outputs.count == 4)
                let first = outputs.first?.arrayValue ?? []
                #expect(first.compactMap { $0.arrayValue?[1].intValue } == listed)
                for (e, t) in zip(first, firstTop) {
                    let a = e.arrayValue?[0].doubleValue ?? .nan, b = t.arrayValue?[0].doubleValue ?? -.nan
                    #expect(abs(a - b) < 1e-9)
                    #expect(e.arrayValue?[2].stringValue != nil)
                }
                let inputs = r.json?["meta_info"]?["input_token_ids_logprobs"]?.arrayValue ?? []
                #expect(inputs.isEmpty)  // logprob_start_len -1: no prompt positions

                // A batch with one list per prompt (null: none); prompt positions with logprob_start_len 0.
                let batch = try await Curl.post(url, json: obj(
                    ("text", .array([str(prompt), str("Hello")])), ("sampling_params", sp), ("return_logprob", .bool(true)),
                    ("logprob_start_len", num(0)), ("token_ids_logprob", .array([ids([1, 2]), .null]))))
                let items = batch.json?.arrayValue ?? []
                #expect(items.count == 2)
                let inputIds = items.first?["meta_info"]?["input_token_ids_logprobs"]?.arrayValue ?? []
                #expect(inputIds.first?.isNull == true && inputIds.dropFirst().allSatisfy { $0.arrayValue?.count == 2 })
                #expect(items.last?["meta_info"]?["output_token_ids_logprobs"] == nil)

                for bad in [JSONValue.int(3), .array([str("x")]), ids([999_999]), .array([ids([1]), ids([2])])] {
                    let b = try await Curl.post(url, json: obj(("text", str(prompt)), ("return_logprob", .bool(true)),
                                                               ("token_ids_logprob", bad)))
                    #expect(b.status == 400, "\(bad.serialized()) → \(b.text)")
                }
            }
        }
    }
}
