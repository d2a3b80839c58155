import Foundation
import JSON
import Runtime
import SGLang
import Server
import Testing

/// Programs against a live server through `RuntimeEndpoint`: the same greedy program gives the same results as
/// the in-process engine, select scores match transformers, streams arrive over SSE, and a batch of 64
/// programs runs concurrently on the server with its shared prefix cached.
@Suite(.serialized) struct ServerProgramTests {
    static let program = SGLFunction<String> { s, topic in
        s += system("You are a helpful assistant.")
        s += user("Name a color and a number about \(topic).")
        s += assistantBegin()
        s += "Color: " + select("color", choices: ["red", "green", "blue"]) + "\n"
        s += "Number: " + genInt("number", maxTokens: 4) + "\n"
        s += "Code: " + gen("code", maxTokens: 8, regex: "[A-Z]{2}[0-9]{2}") + "\n"
        let forks = try await s.fork(2)
        forks.append { i in "Idea \(i + 1):" + gen("idea", maxTokens: 6, stop: ["\n"]) }
        try await forks.join()
        s += "Summary:" + gen("summary", maxTokens: 8)
        s += assistantEnd()
    }

    /// One greedy program on both backends: every variable, the text and the messages are equal.
    @Test func sameResultsAsTheInProcessEngine() async throws {
        let local = try SGLangFixtures.backend()
        try await SGLangFixtures.withServer { _, endpoint in
            #expect(endpoint.modelName == SGLangFixtures.smolLM2Path)
            let defaults = SamplingParameters(temperature: 0)
            let a = try await Self.program.run("the sea", defaults: defaults, backend: local)
            let b = try await Self.program.run("the sea", defaults: defaults, backend: endpoint)
            #expect(await a.error() == nil)
            #expect(await b.error() == nil)
            for name in ["color", "number", "code", "summary"] {
                #expect(try await a[name] == (try await b[name]), "\(name)")
            }
            #expect(try await a.list("idea") == (try await b.list("idea")))
            #expect(try await a.list("idea").count == 2)
            #expect(["red", "green", "blue"].contains(try await b["color"]))
            _ = try await b.int("number")
            #expect(try await b["code"].wholeMatch(of: /[A-Z]{2}[0-9]{2}/) != nil)
            #expect(await a.text() == (await b.text()))
            #expect(await a.messages() == (await b.messages()))
            #expect(await b.messages().map(\.role) == ["system", "user", "assistant"])
        }
    }

    /// select over HTTP scores like transformers (the same checks as in process).
    @Test func selectScoresMatchTransformers() async throws {
        try await SGLangFixtures.withServer { _, endpoint in
            try await EngineProgramTests.checkSelect(endpoint)
        }
    }

    /// A streamed gen over SSE: the pieces add up to the final text.
    @Test func streamingOverHTTP() async throws {
        try await SGLangFixtures.withServer { _, endpoint in
            let program = SGLFunction { s in
                s += user("Describe a forest.")
                s += assistant(gen("d", maxTokens: 10))
            }
            let state = try await program.run(defaults: SamplingParameters(temperature: 0), stream: true, backend: endpoint)
            var pieces: [String] = []
            for await p in state.textStream() { pieces.append(p) }
            #expect(pieces.count > 2)
            #expect(pieces.joined() == (await state.text()))
            let local = try await program.run(defaults: SamplingParameters(temperature: 0), backend: SGLangFixtures.backend())
            #expect(try await state["d"] == (try await local["d"]))
        }
    }

    /// runBatch of 64 programs: the server batches them (fewer forward passes than generated tokens, i.e. more
    /// than one request per pass on average) and every program's prompt hits the prefix cache that tracing
    /// warmed.
    @Test func runBatchOf64IsBatchedAndCached() async throws {
        try await SGLangFixtures.withServer({ $0.enableMetrics = true }) { server, endpoint in
            let persona = "You are a terse assistant. Answer every question with one word, never more than that."
            let program = SGLFunction<Int> { s, n in
                s += system(persona)
                s += user("Question \(n): name a fruit.")
                s += assistant(gen("fruit", maxTokens: 4, ignoreEOS: true))
            }
            let before = await server.engine.stats()
            let states = try await program.runBatch(Array(0..<64), defaults: SamplingParameters(temperature: 0),
                                                    progressBar: true, backend: endpoint)
            let after = await server.engine.stats()
            #expect(states.count == 64)
            var cached: [Int] = []
            for s in states {
                #expect(await s.error() == nil)
                cached.append(try await s.metaInfo("fruit")?["cached_tokens"]?.intValue ?? 0)
            }
            #expect(cached.allSatisfy { $0 > 0 })
            let generated = after.generatedTokens - before.generatedTokens
            let passes = after.forwardPasses - before.forwardPasses
            #expect(generated == 64 * 4)
            #expect(passes < generated, "\(passes) forward passes for \(generated) tokens")
            #expect(after.cachedTokens > before.cachedTokens)
            let metrics = try await endpoint.metricsText()
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("sglang:cached_tokens_total") }
            let value = line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
            #expect(value > 0, "\(line ?? "no sglang:cached_tokens_total line")")
        }
    }
}
