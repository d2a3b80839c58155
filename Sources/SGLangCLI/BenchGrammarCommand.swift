import ArgumentParser
import Dispatch
import Foundation
import Grammar
import JSON
import Tokenizers

/// `sglang bench-grammar`: JSON-schema compile time and token-mask latency over fixed walks
/// (the peer of scripts/bench_llguidance.py, which runs llguidance on the same walks).
struct BenchGrammarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-grammar",
        abstract: "Measure JSON-schema grammar compile ms and per-token mask µs (median/p99) over a walk suite."
    )

    @Option(name: .long, help: "A model folder, a tokenizer.json, or a .gguf file.")
    var tokenizer: String

    @Option(name: .long, help: "The suite: {\"schemas\": [{\"name\", \"schema\", \"walks\": [JSON text, ...]}]} (scripts/grammar_bench_walks.json).")
    var schemas: String

    @Option(name: .long, help: "Whitespace regex between JSON tokens (default: outlines' \"[ ]?\").")
    var whitespace: String?

    func run() throws {
        let tok = try Tokenizer.load(from: tokenizer)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let index = try TokenIndex(tokenizer: tok)
        let indexMs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        guard let data = FileManager.default.contents(atPath: schemas) else { throw ValidationError("cannot read --schemas \(schemas)") }
        let suite = try JSONValue.parse(bytes: [UInt8](data))
        guard let entries = suite["schemas"]?.arrayValue else { throw ValidationError("\(schemas) has no \"schemas\" array") }
        let options = JSONSchemaOptions(whitespacePattern: whitespace)
        print("tokenizer: \(tokenizer) (\(index.size) ids, \(index.trie.nodeCount) trie nodes, index built in \(fmt(indexMs)) ms)")

        var compileMs: [Double] = []
        var shared: [Double] = [], fresh: [Double] = [], misses: [Double] = []
        var walks = 0, rejected = 0, dfaStates: [Int] = []
        var words = [UInt32](repeating: 0, count: index.maskWords)
        for entry in entries {
            guard let name = entry["name"]?.stringValue, let schema = entry["schema"]?.stringValue,
                  let texts = entry["walks"]?.arrayValue?.compactMap(\.stringValue) else {
                throw ValidationError("each schema needs name, schema and walks")
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let dfa = try RegexCompiler.compile(try JSONSchemaConverter.regex(schemaText: schema, options: options))
            let grammar = CompiledGrammar(dfa: dfa, index: index)
            compileMs.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            dfaStates.append(dfa.stateCount)
            for text in texts {
                let ids = tok.encode(text, addSpecialTokens: false)
                // Shared cache (serving: one compiled grammar for every request), then a fresh one (cold).
                for mode in 0..<2 {
                    var matcher = GrammarMatcher(grammar: mode == 0 ? grammar : CompiledGrammar(dfa: dfa, index: index))
                    var times: [Double] = [], missTimes: [Double] = []
                    var ok = true
                    for step in 0...ids.count {
                        let cached = matcher.grammar.isCached(matcher.state)
                        let t = DispatchTime.now().uptimeNanoseconds
                        words.withUnsafeMutableBufferPointer { matcher.fillMask(into: $0) }
                        let us = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e3
                        times.append(us)
                        if !cached { missTimes.append(us) }
                        if step < ids.count {
                            let id = ids[step]
                            guard words[id >> 5] & (1 << UInt32(id & 31)) != 0, matcher.accept(id) else { ok = false; break }
                        }
                    }
                    ok = ok && matcher.isAccepting
                    if !ok {
                        if mode == 0 {
                            rejected += 1
                            FileHandle.standardError.write(Data("rejected walk of \(name): \(text.prefix(80))\n".utf8))
                        }
                        break
                    }
                    if mode == 0 {
                        walks += 1
                        shared += times
                    } else {
                        fresh += times
                        misses += missTimes
                    }
                }
            }
        }
        print("\(entries.count) schemas, \(walks) walks (\(rejected) rejected), \(shared.count) masks; DFA states median \(median(dfaStates.map(Double.init)).formatted0) max \(dfaStates.max() ?? 0)")
        print("compile ms (schema -> regex -> DFA): median \(fmt(median(compileMs)))  p99 \(fmt(percentile(compileMs, 99)))  max \(fmt(compileMs.max() ?? 0))")
        print("mask us, shared grammar cache:     median \(fmt(median(shared)))  p99 \(fmt(percentile(shared, 99)))  mean \(fmt(mean(shared)))")
        print("mask us, fresh grammar per walk:   median \(fmt(median(fresh)))  p99 \(fmt(percentile(fresh, 99)))  mean \(fmt(mean(fresh)))")
        print("mask us, cache misses only (trie walk): median \(fmt(median(misses)))  p99 \(fmt(percentile(misses, 99)))  (\(misses.count) of \(fresh.count))")
    }

    private func fmt(_ v: Double) -> String { String(format: "%.2f", v) }
    private func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
    private func median(_ v: [Double]) -> Double { percentile(v, 50) }
    private func percentile(_ v: [Double], _ p: Double) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        let k = min(s.count - 1, max(0, Int((p / 100 * Double(s.count - 1)).rounded())))
        return s[k]
    }
}

private extension Double {
    var formatted0: String { String(format: "%.0f", self) }
}
