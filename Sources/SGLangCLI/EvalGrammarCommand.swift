import ArgumentParser
import Compute
import Dispatch
import Foundation
import Grammar
import JSON
import Models
import Tokenizers

/// `sglang eval-grammar`: constrained generation of a regex / JSON-schema suite with a local model (masked
/// temperature sampling, optional jump-forward), writing every output as a JSON line for the independent
/// checker (scripts/grammar_eval.py --check) and reporting forward passes and wall time.
struct EvalGrammarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-grammar",
        abstract: "Generate a regex / JSON-schema suite under grammar constraints and record outputs, forward passes and time."
    )

    @Option(name: .long, help: "The model: a .gguf file or a safetensors folder.")
    var model: String

    @Option(name: .long, help: "A model folder, a tokenizer.json, or a .gguf file (default: the model).")
    var tokenizer: String?

    @Option(name: .long, help: "The suite: {\"regexes\": [{name, regex, prompt}], \"schemas\": [{name, schema, prompt}]}.")
    var suite: String

    @Option(name: .long, help: "Where to write the outputs (JSON lines).")
    var out: String

    @Option(name: .long, help: "Seeds 1...N per grammar.")
    var seeds = 3

    @Option(name: .long, help: "Sampling temperature (0: greedy).")
    var temperature = 0.7

    @Option(name: .long, help: "The most new tokens per output.")
    var maxTokens = 160

    @Option(name: .long, help: "Only these names (comma-separated).")
    var only: String?

    @Option(name: .long, help: "jump-forward: off, on, or both (each output twice, same seed).")
    var jumpForward = "off"

    @Option(name: .long, help: "Whitespace regex between JSON tokens (default: outlines' \"[ ]?\").")
    var whitespace: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "Near max-tokens, allow only tokens that finish the match in time.")
    var budgetAware = true

    func run() throws {
        let lm: CausalLM
        if model.hasSuffix(".gguf") {
            let source = try GGUFWeightSource(path: model)
            lm = try CausalLM(config: source.config, weights: source)
        } else {
            lm = try CausalLM(folder: model)
        }
        let tok = try Tokenizer.load(from: tokenizer ?? model)
        let compiler = GrammarCompiler(index: try TokenIndex(tokenizer: tok),
                                       schemaOptions: JSONSchemaOptions(whitespacePattern: whitespace))
        guard let data = FileManager.default.contents(atPath: suite) else { throw ValidationError("cannot read --suite \(suite)") }
        let json = try JSONValue.parse(bytes: [UInt8](data))
        var jobs: [(kind: String, name: String, spec: GrammarSpec, source: String, prompt: String)] = []
        for r in json["regexes"]?.arrayValue ?? [] {
            guard let name = r["name"]?.stringValue, let regex = r["regex"]?.stringValue, let prompt = r["prompt"]?.stringValue else { continue }
            jobs.append(("regex", name, .regex(regex), regex, prompt))
        }
        for s in json["schemas"]?.arrayValue ?? [] {
            guard let name = s["name"]?.stringValue, let schema = s["schema"]?.stringValue, let prompt = s["prompt"]?.stringValue else { continue }
            jobs.append(("schema", name, .jsonSchema(schema), schema, prompt))
        }
        if let only {
            let names = Set(only.split(separator: ",").map(String.init))
            jobs = jobs.filter { names.contains($0.name) }
        }
        let modes: [Bool] = jumpForward == "both" ? [false, true] : [jumpForward == "on"]
        guard let eos = tok.eosTokenId else { throw ValidationError("the tokenizer has no EOS token") }
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: out) else { throw ValidationError("cannot write --out \(out)") }
        defer { try? handle.close() }
        var totals: [Bool: (passes: Int, sampled: Int, tokens: Int, ms: Double, count: Int)] = [:]
        for job in jobs {
            let grammar = try compiler.compile(job.spec)
            let promptIds = tok.encode("<|im_start|>user\n\(job.prompt)<|im_end|>\n<|im_start|>assistant\n", addSpecialTokens: false)
            for seed in 1...max(1, seeds) {
                for jump in modes {
                    let r = try generate(lm, tok, grammar: grammar, prompt: promptIds, seed: UInt64(seed), jump: jump, eos: eos)
                    let text = tok.decode(r.tokens.filter { $0 != eos })
                    let row: [(String, JSONValue)] = [
                        ("kind", .string(job.kind)), ("name", .string(job.name)), (job.kind, .string(job.source)),
                        ("seed", .int(seed)), ("jump_forward", .bool(jump)), ("text", .string(text)),
                        ("finish", .string(r.finish)), ("completion_tokens", .int(r.tokens.count)),
                        ("completion_tokens_wo_jump_forward", .int(r.sampled)), ("forward_passes", .int(r.passes)),
                        ("ms", .double((r.ms * 10).rounded() / 10)),
                    ]
                    handle.write(Data((JSONValue.object(JSONObject(row)).serialized() + "\n").utf8))
                    var t = totals[jump] ?? (0, 0, 0, 0, 0)
                    t.passes += r.passes; t.sampled += r.sampled; t.tokens += r.tokens.count; t.ms += r.ms; t.count += 1
                    totals[jump] = t
                    print("\(job.name) seed \(seed)\(jump ? " jump" : ""): \(r.finish), \(r.tokens.count) tokens, \(r.passes) forward passes, \(String(format: "%.0f", r.ms)) ms: \(text.prefix(70).debugDescription)")
                }
            }
        }
        for jump in modes {
            guard let t = totals[jump] else { continue }
            print("jump-forward \(jump ? "on " : "off"): \(t.count) outputs, \(t.tokens) completion tokens, \(t.sampled) sampled, \(t.passes) forward passes, \(String(format: "%.1f", t.ms / 1000)) s")
        }
    }

    struct Generation { var tokens: [Int]; var sampled: Int; var passes: Int; var ms: Double; var finish: String }

    /// One constrained generation: prefill, then per step a masked sample and one decode forward; with
    /// jump-forward, forced text is re-tokenized, the KV of rolled-back tokens is dropped and the new tokens
    /// are prefilled in one extend forward.
    func generate(_ lm: CausalLM, _ tok: Tokenizer, grammar: CompiledGrammar, prompt: [Int], seed: UInt64,
                  jump: Bool, eos: Int) throws -> Generation {
        let start = DispatchTime.now().uptimeNanoseconds
        let capacity = prompt.count + maxTokens * 3 + 16
        let reqPool = ReqToTokenPool(maxRequests: 1, maxContext: capacity)
        let kvPool = lm.makeKVPool(size: capacity * 2)
        let row = try reqPool.alloc()
        var rng = EvalRandom(seed: seed)
        var matcher = GrammarMatcher(grammar: grammar, maxRollbackTokens: maxTokens * 2)
        var logits = try lm.forward(
            ForwardBatch(requests: [Int32(row)], prefixLens: [0], newTokens: [prompt.map(Int32.init)], slots: try kvPool.alloc(prompt.count)),
            reqToToken: reqPool, kvPool: kvPool)
        var passes = 1, sampled = 0
        var length = prompt.count
        var words = [UInt32](repeating: 0, count: grammar.index.maskWords)
        var finish = "length"
        while matcher.tokens.count < maxTokens {
            if jump, let r = matcher.jumpForward(tokenizer: tok) {
                if r.rollback > 0 {
                    let slots = reqPool.slots(row: row, length: length)
                    kvPool.free(Array(slots.suffix(r.rollback)))
                    length -= r.rollback
                }
                logits = try lm.forward(
                    ForwardBatch(requests: [Int32(row)], prefixLens: [length], newTokens: [r.tokens.map(Int32.init)],
                                 slots: try kvPool.alloc(r.tokens.count)),
                    reqToToken: reqPool, kvPool: kvPool)
                length += r.tokens.count
                passes += 1
                continue
            }
            let remaining = maxTokens - matcher.tokens.count
            words.withUnsafeMutableBufferPointer {
                if budgetAware { matcher.fillMask(into: $0, remainingTokens: remaining) } else { matcher.fillMask(into: $0) }
            }
            guard let id = sample(logits.row(0), mask: words, rng: &rng) else {
                finish = "no allowed token"
                break
            }
            sampled += 1
            guard matcher.accept(id) else { throw ValidationError("the grammar refused its own mask (token \(id))") }
            if id == eos {
                finish = "stop"
                break
            }
            if matcher.tokens.count >= maxTokens { break }
            logits = try lm.forward(
                ForwardBatch(requests: [Int32(row)], prefixLens: [length], newTokens: [[Int32(id)]], slots: try kvPool.alloc(1)),
                reqToToken: reqPool, kvPool: kvPool)
            length += 1
            passes += 1
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        return Generation(tokens: matcher.tokens, sampled: sampled, passes: passes, ms: ms, finish: finish)
    }

    /// Temperature sampling over the allowed ids (greedy at temperature 0).
    func sample(_ row: ArraySlice<Float>, mask: [UInt32], rng: inout EvalRandom) -> Int? {
        var best = -1
        var bestValue = -Float.infinity
        let base = row.startIndex
        let n = min(row.count, mask.count * 32)
        for i in 0..<n where mask[i >> 5] & (1 << UInt32(i & 31)) != 0 && row[base + i] > bestValue {
            best = i
            bestValue = row[base + i]
        }
        guard best >= 0 else { return nil }
        if temperature <= 0 { return best }
        let t = Float(temperature)
        var total: Double = 0
        var weights: [(Int, Double)] = []
        for i in 0..<n where mask[i >> 5] & (1 << UInt32(i & 31)) != 0 {
            let w = Double(exp((row[base + i] - bestValue) / t))
            total += w
            weights.append((i, w))
        }
        var u = Double(rng.next() >> 11) / Double(1 << 53) * total
        for (i, w) in weights {
            u -= w
            if u <= 0 { return i }
        }
        return weights.last?.0 ?? best
    }
}

/// SplitMix64 for reproducible sampling.
struct EvalRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
