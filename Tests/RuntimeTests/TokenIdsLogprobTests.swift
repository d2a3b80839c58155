import Foundation
import JSON
import Models
import Runtime
import Testing

/// `token_ids_logprob` (SGLang HEAD): the listed ids' logprobs at every prompt and output position, checked against
/// the log-softmax of transformers' logits in the tiny llama fixture.
@Suite struct TokenIdsLogprobTests {
    static func logSoftmax(_ row: [Double]) -> [Double] {
        let m = row.max() ?? 0
        let z = m + log(row.map { exp($0 - m) }.reduce(0, +))
        return row.map { $0 - z }
    }

    @Test func listedIdsMatchTransformersAtEveryPosition() async throws {
        let folder = try RuntimeFixtures.shared("tiny/llama")
        let reference = try JSONValue.parse(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))))
        let sequences = (reference["sequences"]?.arrayValue ?? []).map(RuntimeFixtures.ints)
        let logits = (reference["logits"]?.arrayValue ?? []).map { seq in
            (seq.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.doubleValue) }
        }
        let engine = try Engine(model: try ModelLoader.load(path: folder), options: EngineOptions(maxTotalTokens: 512))
        let listed = [0, 3, 17, 200, 511]
        var checked = 0
        for (s, sequence) in sequences.enumerated() where sequence.count >= 2 {
            var request = GenerateRequest(rid: "t\(s)", prompt: .ids(sequence), sampling: SamplingParams(maxNewTokens: 3, temperature: 0),
                                          returnLogprob: true, logprobStartLen: 0)
            request.tokenIdsLogprob = listed
            var last: GenerateOutput?
            for try await out in engine.generate(request) { last = out }
            let out = try #require(last)
            let input = try #require(out.inputTokenIdsLogprobs)
            let output = try #require(out.outputTokenIdsLogprobs)
            #expect(input.count == sequence.count && input[0] == nil)
            #expect(output.count == out.outputIds.count)
            // Prompt position p is predicted by the row of position p − 1; the first output by the last row.
            var rows: [([LogprobEntry]?, [Double])] = (1..<sequence.count).map { (input[$0], logits[s][$0 - 1]) }
            rows.append((output[0], logits[s][sequence.count - 1]))
            for (entries, row) in rows {
                let entries = try #require(entries)
                let want = Self.logSoftmax(row)
                #expect(entries.map(\.id) == listed)
                for e in entries { #expect(abs((e.logprob ?? .nan) - want[e.id]) < 1e-4, "sequence \(s) id \(e.id)") }
                checked += 1
            }
            // The sampled token's own logprob is the listed one where the list has it.
            for (k, id) in out.outputIds.enumerated() {
                if let e = output[k]?.first(where: { $0.id == id }) {
                    #expect(e.logprob == out.outputTokenLogprobs?[k].logprob)
                }
            }
        }
        #expect(checked > 40)
        #expect(throws: RuntimeError.self) {
            var bad = GenerateRequest(rid: "bad", prompt: .ids([1, 2]), returnLogprob: true)
            bad.tokenIdsLogprob = [512]
            _ = try engine.prepare(bad)
        }
    }
}
