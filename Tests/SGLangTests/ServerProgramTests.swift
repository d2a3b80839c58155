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

    /// `gen(stopRegex:)` ends the gen at the first token after which a pattern matches its text, on the server and
    /// in process alike; without it the same greedy gen runs longer.
    @Test func stopRegexEndsTheGenOnBothBackends() async throws {
        // SmolLM2's greedy answer lists "- 1 to 2: 1", "- 2 to 3: 2", …
        let pattern = #"3 to \d"#
        let counting = SGLFunction<[String]?> { s, stops in
            s += "Count from 1 to 30: "
            s += gen("rest", maxTokens: 40, stopRegex: stops)
        }
        let local = try SGLangFixtures.backend()
        try await SGLangFixtures.withServer { _, endpoint in
            let defaults = SamplingParameters(temperature: 0)
            let a = try await counting.run([pattern], defaults: defaults, backend: local)
            let b = try await counting.run([pattern], defaults: defaults, backend: endpoint)
            let free = try await counting.run(nil, defaults: defaults, backend: local)
            let stopped = try await a["rest"], whole = try await free["rest"]
            #expect(try await b["rest"] == stopped)
            let regex = try NSRegularExpression(pattern: pattern)
            func matches(_ t: String) -> Bool { regex.firstMatch(in: t, range: NSRange(t.startIndex..<t.endIndex, in: t)) != nil }
            #expect(matches(stopped), "\(stopped.debugDescription)")
            #expect(whole.hasPrefix(stopped) && whole.count > stopped.count, "\(whole.debugDescription)")
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
            let text = await state.text()
            // Several pieces — unless the subscription came after the gen ended (a loaded machine), which
            // delivers the whole text as one.
            #expect(pieces.count > 2 || pieces == [text], "\(pieces)")
            #expect(pieces.joined() == text)
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

    /// API speculative execution on a chat model (OpenAI chat API of the server): the assistant turn's fills and
    /// gens are recorded and one completion fills them at the turn's end, exactly as the backend's
    /// `speculateAssistantTurn` splits that turn when called directly.
    @Test func chatSpeculationThroughTheInterpreter() async throws {
        try await SGLangFixtures.withServer { server, _ in
            let template = try await SGLangFixtures.backend().chatTemplate()
            let openai = try OpenAI(model: SGLangFixtures.smolLM2Path, baseURL: "http://127.0.0.1:\(server.port ?? 0)/v1",
                                    isChatModel: true, chatTemplate: template, tokenizer: try SGLangFixtures.tokenizer(),
                                    retries: 1)
            let question = "Name a fruit and a color."
            let program = SGLFunction(numAPISpecTokens: 24) { s in
                s += user(question)
                s += assistantBegin()
                s += "Fruit:" + gen("fruit", maxTokens: 8, stop: ["\n"]) + "\nColor:" + gen("color", maxTokens: 8)
                s += assistantEnd()
            }
            let greedy = SamplingParameters(temperature: 0)
            let before = await server.engine.stats().finishedRequests
            let state = try await program.run(defaults: greedy, backend: openai)
            #expect(await state.error() == nil)
            let calls = await server.engine.stats().finishedRequests - before

            var turn = ChatSpeculation(maxTokens: 24)
            turn.addFill("Fruit:")
            var first = greedy
            first.maxNewTokens = 8
            first.stop = ["\n"]
            try turn.addGen("fruit", first)
            turn.addFill("\nColor:")
            var second = greedy
            second.maxNewTokens = 8
            try turn.addGen("color", second)
            let context = ProgramContext(programID: "direct", text: "",
                                         messages: [ChatMessage(role: "user", content: question)])
            let outcome = try await openai.speculateAssistantTurn(context, turn)
            #expect(try await state["fruit"] == (outcome.variables["fruit"] ?? ""))
            #expect(try await state["color"] == (outcome.variables["color"] ?? ""))
            let messages = await state.messages()
            #expect(messages.map(\.role) == ["user", "assistant"])
            #expect(messages.last?.content == String(outcome.text.drop(while: \.isWhitespace)))
            #expect(calls >= 1 && calls <= ChatSpeculation.maxTries)
        }
    }

    /// SGLang README's `character_regex` (a copy of the one in examples/, for an independent check).
    static let characterPattern = #"\{\n    "name": "[\w\d\s]{1,16}",\n    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n"#
        + #"    "blood status": "(Pure-blood|Half-blood|Muggle-born)",\n"#
        + #"    "occupation": "(student|teacher|auror|ministry of magic|death eater|order of the phoenix)",\n"#
        + #"    "wand": \{\n        "wood": "[\w\d\s]{1,16}",\n        "core": "[\w\d\s]{1,16}",\n"#
        + #"        "length": [0-9]{1,2}\.[0-9]{0,2}\n    \},\n    "alive": "(Alive|Deceased)",\n"#
        + #"    "patronus": "[\w\d\s]{1,16}",\n    "bogart": "[\w\d\s]{1,16}"\n\}"#

    /// The README examples (`sglang-examples`) run against the live server and print their variables.
    @Test func examplesRunAgainstTheServer() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("sglang-examples").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("sglang-examples is not built next to the tests (\(binary))")
            return
        }
        try await SGLangFixtures.withServer { server, _ in
            let url = "http://127.0.0.1:\(server.port ?? 0)"
            let expected: [String: [String]] = [
                "multi-turn": ["answer_1", "answer_2", "messages"], "tool-use": ["tool", "messages"],
                "tip-suggestion": ["detailed_tip", "summary"], "regex": ["answer"], "json": ["json_output"],
                "character-regex": ["json_output"],
                "typed": ["legs", "pi", "star", "color"], "batch": ["answers"], "stream": ["answer_1", "pieces"],
            ]
            for (name, keys) in expected.sorted(by: { $0.key < $1.key }) {
                let run = try await ExampleProcess.run([binary, name, "--url", url])
                #expect(run.status == 0, "\(name): \(String(decoding: run.stderr, as: UTF8.self))")
                let json = try? JSONValue.parse(bytes: run.stdout)
                for key in keys { #expect(json?[key] != nil, "\(name) printed no \(key)") }
                if name == "regex", let ip = json?["answer"]?.stringValue {
                    #expect(ip.split(separator: ".").count == 4, "\(ip)")
                }
                if name == "character-regex" {
                    // Checked independently of our grammar engine: Foundation's regular expressions.
                    let text = json?["json_output"]?.stringValue ?? ""
                    let re = try NSRegularExpression(pattern: "^" + Self.characterPattern + "$")
                    #expect(re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil, "\(text)")
                }
                if name == "tip-suggestion" { #expect(json?["detailed_tip"]?.arrayValue?.count == 2) }
            }
        }
    }
}

/// Runs a child process on a thread of its own (never blocking the cooperative pool the server needs).
enum ExampleProcess {
    struct Finished: Sendable {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    private final class Box: @unchecked Sendable { var bytes: [UInt8] = [] }

    static func run(_ arguments: [String]) async throws -> Finished {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Finished, any Error>) in
            Thread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: arguments[0])
                    process.arguments = Array(arguments.dropFirst())
                    process.currentDirectoryURL = SGLangFixtures.repoRoot
                    let out = Pipe(), err = Pipe()
                    process.standardOutput = out
                    process.standardError = err
                    process.standardInput = FileHandle.nullDevice
                    try process.run()
                    let errBox = Box()
                    let done = DispatchSemaphore(value: 0)
                    Thread {
                        errBox.bytes = [UInt8](err.fileHandleForReading.readDataToEndOfFile())
                        done.signal()
                    }.start()
                    let stdout = [UInt8](out.fileHandleForReading.readDataToEndOfFile())
                    done.wait()
                    process.waitUntilExit()
                    c.resume(returning: Finished(status: process.terminationStatus, stdout: stdout, stderr: errBox.bytes))
                } catch {
                    c.resume(throwing: error)
                }
            }.start()
        }
    }
}
