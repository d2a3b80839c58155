import ArgumentParser
import Dispatch
import Foundation
import JSON
import Runtime
import Tokenizers

/// `sglang eval-grammar`: a regex / JSON-schema suite generated through the serving engine (`Runtime.Engine`,
/// requests with `regex` / `json_schema` sampling params), every output written as a JSON line for the
/// independent checker (`scripts/grammar_eval.py --check`), with completion tokens, sampled tokens, forward
/// passes and wall time per grammar and in total.
///
/// `--jump-forward off|on` runs one engine; requests go `--concurrency` at a time (the batched serving path).
/// `--jump-forward both` runs two engines over the same model, one with `disableRegexJumpForward`, and sends
/// every request to each in turn, one request at a time, so each request's forward passes (the engine's
/// counter before and after) and wall time are its own.
struct EvalGrammarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-grammar",
        abstract: "Generate a regex / JSON-schema suite through the engine and record outputs, forward passes and time."
    )

    @Option(name: [.customLong("model-path"), .customLong("model")], help: "A .gguf file or a Hugging Face model folder.")
    var modelPath: String

    @Option(name: .long, help: "The suite: {\"regexes\": [{name, regex, prompt}], \"schemas\": [{name, schema, prompt}]}.")
    var suite: String

    @Option(name: .long, help: "Where to write the outputs (JSON lines).")
    var out: String

    @Option(name: .long, help: "Seeds 1...N per grammar (the requests' sampling seeds).")
    var seeds = 3

    @Option(name: .long, help: "Sampling temperature (0: greedy).")
    var temperature = 0.7

    @Option(name: .long, help: "max_new_tokens of every request.")
    var maxTokens = 160

    @Option(name: .long, help: "Only these names (comma-separated).")
    var only: String?

    @Option(name: .long, help: "Jump-forward: on (the engine's default), off, or both (two engines, same requests, one at a time).")
    var jumpForward = "on"

    @Option(name: .long, help: "Requests in flight at once with one engine (1: one at a time, forward passes per request).")
    var concurrency = 16

    @Option(name: .long, help: "The engine's --constrained-json-whitespace-pattern (default: outlines' \"[ ]?\").")
    var whitespace: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "The engine's grammar token budget (off: --disable-grammar-token-budget).")
    var budgetAware = true

    @Option(name: .long, help: "Prompt format: chat (the model's chat template, as the server renders chat requests) or chatml (fixed ChatML, no system turn).")
    var promptFormat = "chat"

    @Option(name: .long, help: "KV cache size in tokens of each engine.")
    var maxTotalTokens = 16384

    func validate() throws {
        guard ["on", "off", "both"].contains(jumpForward) else { throw ValidationError("--jump-forward must be on, off or both") }
        guard ["chat", "chatml"].contains(promptFormat) else { throw ValidationError("--prompt-format must be chat or chatml") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be ≥ 1") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be ≥ 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be ≥ 1") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be ≥ 0") }
    }

    /// One suite entry.
    struct Job {
        var kind: String
        var name: String
        var source: String
        var prompt: [Int]
    }

    /// One request of the run: a job, a seed and a jump-forward mode.
    struct Item {
        var job: Int
        var seed: Int
        var jump: Bool
    }

    /// What one request produced.
    struct Outcome {
        var output: GenerateOutput
        /// Forward passes of the engine while the request ran alone (nil when requests overlapped).
        var passes: Int?
        /// Wall time while alone; end-to-end latency when requests overlapped.
        var ms: Double
    }

    func run() async throws {
        let loaded = try ModelLoader.load(path: modelPath)
        guard let tokenizer = loaded.tokenizer else { throw ValidationError("\(modelPath) has no tokenizer") }
        let jobs = try loadJobs(tokenizer: tokenizer)
        guard !jobs.isEmpty else { throw ValidationError("no suite entry selected") }
        let modes: [Bool] = jumpForward == "both" ? [false, true] : [jumpForward == "on"]
        var engines: [Bool: Engine] = [:]
        for jump in modes {
            engines[jump] = try Engine(model: loaded, options: EngineOptions(
                maxTotalTokens: maxTotalTokens, disableRegexJumpForward: !jump,
                disableGrammarTokenBudget: !budgetAware, constrainedJSONWhitespacePattern: whitespace))
        }
        defer { for e in engines.values { e.shutdown() } }

        var items: [Item] = []
        for j in jobs.indices {
            for seed in 1...seeds {
                for jump in modes { items.append(Item(job: j, seed: seed, jump: jump)) }
            }
        }
        // Validate and compile every grammar before the clock starts (each engine has its own compiler).
        var prepared: [PreparedRequest] = []
        for (i, item) in items.enumerated() {
            let job = jobs[item.job]
            var params = SamplingParams(maxNewTokens: maxTokens, temperature: temperature, seed: UInt64(item.seed))
            if job.kind == "regex" { params.regex = job.source } else { params.jsonSchema = job.source }
            guard let engine = engines[item.jump] else { continue }
            prepared.append(try engine.prepare(GenerateRequest(rid: "eval-\(i)", prompt: .ids(job.prompt), sampling: params)))
        }

        let sequential = modes.count > 1 || concurrency == 1
        if sequential {
            // One short unconstrained request per engine first, so neither mode pays the first touch of the
            // weights and the KV pool inside its timings.
            for engine in engines.values {
                let warm = GenerateRequest(rid: "warm-up", prompt: .ids(Array(jobs[0].prompt.prefix(8))),
                                           sampling: SamplingParams(maxNewTokens: 2, temperature: 0))
                _ = try await Self.final(engine.generate(warm))
            }
        }
        let before = await totals(engines)
        let start = DispatchTime.now().uptimeNanoseconds
        var results = [Outcome?](repeating: nil, count: items.count)
        if sequential {
            for (i, item) in items.enumerated() {
                guard let engine = engines[item.jump] else { continue }
                let passes = await engine.stats().forwardPasses
                let t0 = DispatchTime.now().uptimeNanoseconds
                let output = try await Self.final(engine.generate(prepared[i]))
                let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                let r = Outcome(output: output, passes: await engine.stats().forwardPasses - passes, ms: ms)
                results[i] = r
                report(jobs[item.job], item, r)
            }
        } else {
            try await withThrowingTaskGroup(of: (Int, GenerateOutput).self) { group in
                var next = 0
                func submit() {
                    guard next < items.count, let engine = engines[items[next].jump] else { return }
                    let stream = engine.generate(prepared[next])
                    let i = next
                    group.addTask { (i, try await Self.final(stream)) }
                    next += 1
                }
                for _ in 0..<min(concurrency, items.count) { submit() }
                while let (i, output) = try await group.next() {
                    let r = Outcome(output: output, passes: nil, ms: (output.e2eLatency ?? 0) * 1000)
                    results[i] = r
                    report(jobs[items[i].job], items[i], r)
                    submit()
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let after = await totals(engines)
        try write(jobs: jobs, items: items, results: results)
        summarize(jobs: jobs, items: items, results: results, modes: modes, sequential: sequential)
        if !sequential {
            let passes = after.values.reduce(0, +) - before.values.reduce(0, +)
            print("run: \(items.count) requests, \(concurrency) at a time: \(passes) forward passes, \(String(format: "%.1f", seconds)) s")
        }
    }

    /// The suite's entries (filtered by `--only`) with their rendered prompts.
    func loadJobs(tokenizer: Tokenizer) throws -> [Job] {
        guard let data = FileManager.default.contents(atPath: suite) else { throw ValidationError("cannot read --suite \(suite)") }
        let json = try JSONValue.parse(bytes: [UInt8](data))
        let names = only.map { Set($0.split(separator: ",").map(String.init)) }
        let template = promptFormat == "chat" ? try ChatTemplate(tokenizer: tokenizer) : nil
        var jobs: [Job] = []
        for (kind, key) in [("regex", "regexes"), ("schema", "schemas")] {
            for (i, entry) in (json[key]?.arrayValue ?? []).enumerated() {
                guard let name = entry["name"]?.stringValue, let source = entry[kind]?.stringValue,
                      let question = entry["prompt"]?.stringValue else {
                    throw ValidationError("--suite: \(key)[\(i)] needs string fields name, \(kind) and prompt")
                }
                if let names, !names.contains(name) { continue }
                let text: String
                if let template {
                    var message = JSONObject()
                    message["role"] = .string("user")
                    message["content"] = .string(question)
                    text = try template.apply(messages: .array([.object(message)]), addGenerationPrompt: true)
                } else {
                    text = "<|im_start|>user\n\(question)<|im_end|>\n<|im_start|>assistant\n"
                }
                jobs.append(Job(kind: kind, name: name, source: source, prompt: tokenizer.encode(text, addSpecialTokens: false)))
            }
        }
        return jobs
    }

    static func final(_ stream: AsyncThrowingStream<GenerateOutput, any Error>) async throws -> GenerateOutput {
        var last: GenerateOutput?
        for try await o in stream { last = o }
        guard let last else { throw ValidationError("the engine finished a request without output") }
        return last
    }

    func totals(_ engines: [Bool: Engine]) async -> [Bool: Int] {
        var r: [Bool: Int] = [:]
        for (k, e) in engines { r[k] = await e.stats().forwardPasses }
        return r
    }

    static func finish(_ reason: FinishReason?) -> String {
        switch reason {
        case .abort(let message, _): return "abort: \(message)"
        case let r?: return r.type
        case nil: return "none"
        }
    }

    func report(_ job: Job, _ item: Item, _ r: Outcome) {
        let o = r.output
        let passes = r.passes.map { ", \($0) forward passes" } ?? ""
        print("\(job.name) seed \(item.seed)\(item.jump ? " jump" : ""): \(Self.finish(o.finishReason)), \(o.completionTokens) tokens (\(o.completionTokensWithoutJumpForward) sampled)\(passes), \(String(format: "%.0f", r.ms)) ms: \(o.text.prefix(70).debugDescription)")
    }

    /// The JSON lines `scripts/grammar_eval.py --check` reads, in suite order.
    func write(jobs: [Job], items: [Item], results: [Outcome?]) throws {
        var lines = ""
        for (item, r) in zip(items, results) {
            guard let r else { continue }
            let job = jobs[item.job]
            let o = r.output
            let row: [(String, JSONValue)] = [
                ("kind", .string(job.kind)), ("name", .string(job.name)), (job.kind, .string(job.source)),
                ("seed", .int(item.seed)), ("jump_forward", .bool(item.jump)), ("text", .string(o.text)),
                ("finish", .string(Self.finish(o.finishReason))), ("completion_tokens", .int(o.completionTokens)),
                ("completion_tokens_wo_jump_forward", .int(o.completionTokensWithoutJumpForward)),
                ("forward_passes", r.passes.map { .int($0) } ?? .null), ("ms", .double((r.ms * 10).rounded() / 10)),
            ]
            lines += JSONValue.object(JSONObject(row)).serialized() + "\n"
        }
        guard FileManager.default.createFile(atPath: out, contents: Data(lines.utf8)) else {
            throw ValidationError("cannot write --out \(out)")
        }
    }

    /// Per grammar (with both modes) and per mode: outputs, completion tokens, sampled tokens, forward passes, time.
    func summarize(jobs: [Job], items: [Item], results: [Outcome?], modes: [Bool], sequential: Bool) {
        struct Sum { var count = 0, tokens = 0, sampled = 0, passes = 0, ms = 0.0, stopped = 0 }
        var byJob: [Int: [Bool: Sum]] = [:]
        var total: [Bool: Sum] = [:]
        for (item, r) in zip(items, results) {
            guard let r else { continue }
            for key in [item.job, -1] {
                var s = key < 0 ? total[item.jump, default: Sum()] : byJob[key, default: [:]][item.jump, default: Sum()]
                s.count += 1
                s.tokens += r.output.completionTokens
                s.sampled += r.output.completionTokensWithoutJumpForward
                s.passes += r.passes ?? 0
                s.ms += r.ms
                if r.output.finishReason?.type == "stop" { s.stopped += 1 }
                if key < 0 { total[item.jump] = s } else { byJob[key, default: [:]][item.jump] = s }
            }
        }
        func line(_ s: Sum) -> String {
            let passes = sequential ? ", \(s.passes) forward passes, \(String(format: "%.2f", s.ms / 1000)) s" : ""
            return "\(s.count) outputs (\(s.stopped) stopped), \(s.tokens) completion tokens, \(s.sampled) sampled\(passes)"
        }
        if modes.count > 1 {
            for j in jobs.indices {
                guard let off = byJob[j]?[false], let on = byJob[j]?[true] else { continue }
                let passRatio = on.passes > 0 ? Double(off.passes) / Double(on.passes) : 0
                let timeRatio = on.ms > 0 ? off.ms / on.ms : 0
                print("\(jobs[j].name): off \(line(off)) | on \(line(on)) | passes \(String(format: "%.2f", passRatio))x fewer, \(String(format: "%.2f", timeRatio))x faster")
            }
        }
        for jump in modes {
            guard let s = total[jump] else { continue }
            print("jump-forward \(jump ? "on " : "off"): \(line(s))")
        }
    }
}
