import Compute
import Foundation
import JSON
import Models
import Runtime
import Testing

/// Locates the repository, the shared fixtures and the SmolLM2 GGUF.
enum RuntimeFixtures {
    /// …/Tests/RuntimeTests/SmolLM2GenerationTests.swift → three levels up.
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "missing \(path)" }
    }

    /// `../shared/fixtures/<relative>` beside the repository, or a recorded failure naming it.
    static func shared(_ relative: String) throws -> String {
        let path = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/\(relative)").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("shared fixture missing: \(path) (expected ../shared/fixtures beside the repository)")
            throw Missing(path: path)
        }
        return path
    }

    static var smolLM2Path: String { repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path }

    /// The SmolLM2 GGUF loaded once for the whole suite.
    static let smolLM2: Result<LoadedModel, any Error> = Result {
        guard FileManager.default.fileExists(atPath: smolLM2Path) else {
            throw Missing(path: smolLM2Path + " (run `bash scripts/fetch-smollm2.sh`)")
        }
        return try ModelLoader.load(path: smolLM2Path)
    }

    static func rows(_ relative: String) throws -> [JSONValue] {
        try String(contentsOfFile: try shared(relative), encoding: .utf8).split(separator: "\n")
            .map { try JSONValue.parse(bytes: Array($0.utf8)) }
    }

    static func ints(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).compactMap(\.intValue) }
}

/// SmolLM2-135M-Instruct (Q4_1 GGUF) generation against transformers (`smollm2/*.jsonl`).
@Suite(.serialized) struct SmolLM2GenerationTests {
    func model() throws -> LoadedModel {
        do { return try RuntimeFixtures.smolLM2.get() } catch {
            Issue.record("cannot load SmolLM2: \(error)")
            throw error
        }
    }

    /// Teacher forcing through the decode path (one token per forward, as generation runs): the top-5
    /// log-probabilities of every step of every row within 2e-2, and the argmax equal where the reference
    /// margin exceeds 0.05.
    @Test func teacherForcedTop5LogprobsOnTheDecodePath() throws {
        let m = try model().model
        for row in try RuntimeFixtures.rows("smollm2/greedy.jsonl") {
            let prompt = RuntimeFixtures.ints(row["prompt_ids"]).map(Int32.init)
            let greedy = RuntimeFixtures.ints(row["greedy_ids"])
            let steps = row["steps"]?.arrayValue ?? []
            #expect(!prompt.isEmpty && steps.count == greedy.count)
            let reqPool = ReqToTokenPool(maxRequests: 1, maxContext: prompt.count + greedy.count)
            let kvPool = try m.makeKVPool(size: prompt.count + greedy.count + 1)
            var logits = try m.forward(
                ForwardBatch(requests: [0], prefixLens: [0], newTokens: [prompt], slots: try kvPool.alloc(prompt.count)),
                reqToToken: reqPool, kvPool: kvPool)
            var worst = 0.0
            for (s, step) in steps.enumerated() {
                if s > 0 {
                    logits = try m.forward(
                        ForwardBatch(requests: [0], prefixLens: [prompt.count + s - 1], newTokens: [[Int32(greedy[s - 1])]],
                                     slots: try kvPool.alloc(1)),
                        reqToToken: reqPool, kvPool: kvPool)
                }
                let ours = Dictionary(uniqueKeysWithValues: Sampler.topLogprobs(logits.row(0), k: 50).map { ($0.id, $0.logprob) })
                for pair in step["top5"]?.arrayValue ?? [] {
                    guard let id = pair.arrayValue?.first?.intValue, let ref = pair.arrayValue?.last?.doubleValue else { continue }
                    guard let value = ours[id] else {
                        Issue.record("step \(s): reference top-5 id \(id) is not in our top 50")
                        continue
                    }
                    worst = max(worst, abs(value - ref))
                }
                if let margin = step["margin"]?.doubleValue, margin > 0.05 {
                    #expect(Sampler.argmax(logits.row(0)) == greedy[s], "step \(s)")
                }
            }
            #expect(worst <= 2e-2, "largest top-5 logprob difference \(worst)")
        }
    }

    /// Free-running greedy generation with `Generator`: ids equal to transformers' until the first step
    /// whose reference margin is ≤ 0.05 (a near tie may legitimately flip there), top-5 logprobs within 2e-2
    /// on the shared trajectory.
    @Test func freeRunningGreedyMatchesTransformers() throws {
        let loaded = try model()
        let generator = Generator(model: loaded.model)
        for row in try RuntimeFixtures.rows("smollm2/greedy.jsonl") {
            let prompt = RuntimeFixtures.ints(row["prompt_ids"])
            let greedy = RuntimeFixtures.ints(row["greedy_ids"])
            let steps = row["steps"]?.arrayValue ?? []
            let result = try generator.generate(
                promptIds: prompt, params: SamplingParams(temperature: 0), maxNewTokens: greedy.count,
                ignoreEOS: true, topLogprobs: 5)
            #expect(result.outputIds.count == greedy.count)
            var worst = 0.0
            for s in 0..<min(greedy.count, result.outputIds.count) {
                let ours = Dictionary(uniqueKeysWithValues: result.topLogprobs[s].map { ($0.id, $0.logprob) })
                for pair in steps[s]["top5"]?.arrayValue ?? [] {
                    guard let id = pair.arrayValue?.first?.intValue, let ref = pair.arrayValue?.last?.doubleValue,
                          let value = ours[id] else { continue }
                    worst = max(worst, abs(value - ref))
                }
                let margin = steps[s]["margin"]?.doubleValue ?? 0
                if margin <= 0.05 { break }
                #expect(result.outputIds[s] == greedy[s], "step \(s) of \(row["prompt"]?.stringValue ?? "")")
                if result.outputIds[s] != greedy[s] { break }
            }
            #expect(worst <= 2e-2, "largest top-5 logprob difference \(worst)")
        }
    }

    /// Log-probability of each next prompt token (a prefill with logits at every position) within 2e-2.
    @Test func promptLogprobsMatchTransformers() throws {
        let m = try model().model
        for row in try RuntimeFixtures.rows("smollm2/prompt_logprobs.jsonl") {
            let ids = RuntimeFixtures.ints(row["ids"])
            let reference = (row["next_token_logprobs"]?.arrayValue ?? []).compactMap(\.doubleValue)
            #expect(reference.count == ids.count - 1)
            let reqPool = ReqToTokenPool(maxRequests: 1, maxContext: ids.count)
            let kvPool = try m.makeKVPool(size: ids.count + 1)
            let logits = try m.forward(
                ForwardBatch(requests: [0], prefixLens: [0], newTokens: [ids.map(Int32.init)],
                             slots: try kvPool.alloc(ids.count)),
                reqToToken: reqPool, kvPool: kvPool, logits: .all)
            var worst = 0.0
            for (i, ref) in reference.enumerated() {
                let r = logits.row(i).map(Double.init)
                let mx = r.max() ?? 0
                let logZ = mx + log(r.reduce(0) { $0 + exp($1 - mx) })
                worst = max(worst, abs(r[ids[i + 1]] - logZ - ref))
            }
            #expect(worst <= 2e-2, "largest prompt logprob difference \(worst) for \(row["text"]?.stringValue ?? "")")
        }
    }

    /// The library path of `sglang generate --chat --temperature 0`.
    @Test func chatCompletionThroughTheLibrary() throws {
        let loaded = try model()
        var streamed = ""
        let out = try TextGeneration.run(
            TextGenerationRequest(prompt: "What is the capital of France?", chat: true, params: SamplingParams(temperature: 0)),
            model: loaded) { streamed += $0 }
        #expect(out.text == "The capital of France is Paris.")
        #expect(streamed == out.text)
        #expect(out.result.finishReason.type == "stop")
        #expect(out.result.outputIds.last == loaded.tokenizer?.eosTokenId)
        // The chat prompt is the one transformers renders (greedy.jsonl's first row).
        let first = try RuntimeFixtures.rows("smollm2/greedy.jsonl")[0]
        #expect(out.promptIds == RuntimeFixtures.ints(first["prompt_ids"]))
    }

    /// The built `sglang` binary (it sits beside the test bundle in the build folder), or nil with an issue.
    static func binary() -> String? {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].compactMap { $0?.appendingPathComponent("sglang").path }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("the sglang binary was not found beside the test bundle (looked at \(candidates)); run `swift build` first")
            return nil
        }
        return binary
    }

    /// Runs `sglang` with `arguments`; returns (exit status, stdout, stderr).
    static func runCLI(_ arguments: [String]) throws -> (status: Int32, out: String, err: String)? {
        guard let binary = binary() else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func generateCommandPrintsTheAnswer() throws {
        _ = try model()
        guard let r = try Self.runCLI(["generate", "--model-path", RuntimeFixtures.smolLM2Path, "--chat",
                                       "--prompt", "What is the capital of France?", "--temperature", "0"]) else { return }
        #expect(r.status == 0)
        #expect(r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "The capital of France is Paris.")
    }

    /// `--json` with `--input-ids` and `--top-logprobs`: transformers' greedy ids and top-k logprobs.
    @Test func generateCommandJSONOutput() throws {
        let row = try RuntimeFixtures.rows("smollm2/greedy.jsonl")[0]
        let prompt = RuntimeFixtures.ints(row["prompt_ids"]).map(String.init).joined(separator: ",")
        guard let r = try Self.runCLI(["generate", "--model-path", RuntimeFixtures.smolLM2Path, "--input-ids", prompt,
                                       "--temperature", "0", "--max-new-tokens", "4", "--top-logprobs", "3",
                                       "--json"]) else { return }
        #expect(r.status == 0)
        let json = try JSONValue.parse(bytes: Array(r.out.utf8))
        #expect(RuntimeFixtures.ints(json["output_ids"]) == Array(RuntimeFixtures.ints(row["greedy_ids"]).prefix(4)))
        #expect(json["text"]?.stringValue == "The capital of France")
        let steps = json["top_logprobs"]?.arrayValue ?? []
        #expect(steps.count == 4)
        for (s, step) in steps.enumerated() {
            let ours = step.arrayValue ?? []
            let ref = (row["steps"]?.arrayValue?[s]["top5"]?.arrayValue ?? []).prefix(3)
            #expect(ours.count == 3)
            for (o, e) in zip(ours, ref) {
                #expect(o.arrayValue?.first?.intValue == e.arrayValue?.first?.intValue)
                let diff = abs((o.arrayValue?.last?.doubleValue ?? 0) - (e.arrayValue?.last?.doubleValue ?? 1))
                #expect(diff <= 2e-2)
            }
        }
    }

    /// A missing model and out-of-range ids exit non-zero with a message on stderr.
    @Test func generateCommandErrors() throws {
        guard let missing = try Self.runCLI(["generate", "--model-path", "/nonexistent.gguf", "--prompt", "hi"]) else { return }
        #expect(missing.status != 0)
        #expect(missing.err.contains("/nonexistent.gguf does not exist"))
        guard let bad = try Self.runCLI(["generate", "--model-path", RuntimeFixtures.smolLM2Path, "--input-ids", "1,x"])
        else { return }
        #expect(bad.status != 0)
        #expect(bad.err.contains("'x' is not a non-negative integer"))
    }

    /// `--input-ids` outside the vocabulary and a missing model are clear errors.
    @Test func badInputsAreClearErrors() throws {
        let loaded = try model()
        #expect(throws: RuntimeError.invalidInput("token id 49152 is outside the vocabulary 0..<49152")) {
            _ = try TextGeneration.run(TextGenerationRequest(inputIds: [1, 49152]), model: loaded)
        }
        #expect(throws: RuntimeError.modelNotFound("/nonexistent/model.gguf does not exist")) {
            _ = try ModelLoader.load(path: "/nonexistent/model.gguf")
        }
    }
}
