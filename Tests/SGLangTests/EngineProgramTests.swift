import Foundation
import JSON
import Runtime
import SGLang
import Testing
import Tokenizers

/// Programs on the in-process engine (SmolLM2): roles through the model's own template, gens equal to direct
/// engine generation, select scores against transformers' logprobs, forks, typed and constrained gens,
/// streaming, and errors that surface on the state.
@Suite(.serialized) struct EngineProgramTests {
    /// Greedy generation of `text` straight on the engine, without the frontend.
    static func direct(_ backend: EngineBackend, _ text: String, maxTokens: Int, stop: [String] = []) async throws -> String {
        var last: GenerateOutput?
        let req = GenerateRequest(rid: UUID().uuidString, prompt: .text(text),
                                  sampling: SamplingParams(maxNewTokens: maxTokens, stop: stop, temperature: 0))
        for try await out in backend.engine.generate(req) { last = out }
        return last?.text ?? ""
    }

    /// Roles applied one by one through the model's Jinja template give exactly transformers' rendering of the
    /// whole conversation, and `messages()` returns the conversation.
    @Test func rolesFollowTheModelTemplate() async throws {
        let backend = try SGLangFixtures.backend()
        #expect(try await backend.chatTemplate().isJinja)
        for row in try SGLangFixtures.rows("smollm2/chat_template.jsonl") {
            let messages = (row["messages"]?.arrayValue ?? []).map {
                ChatMessage(role: $0["role"]?.stringValue ?? "", content: $0["content"]?.stringValue ?? "")
            }
            let addPrompt = row["add_generation_prompt"]?.boolValue ?? false
            let program = SGLFunction { s in
                for m in messages { s += role(m.role, Expr(m.content)) }
                if addPrompt { s += assistantBegin() }
            }
            let state = try await program.run(backend: backend)
            #expect(await state.error() == nil)
            #expect(await state.text() == row["rendered"]?.stringValue)
            if !addPrompt { #expect(try await backend.chatTemplate().prompt(for: messages) == row["rendered"]?.stringValue) }
            // SGLang keeps a message's content left-stripped.
            #expect(await state.messages() == messages.map {
                ChatMessage(role: $0.role, content: String($0.content.drop(while: \.isWhitespace)))
            })
        }
    }

    /// A chat program's gen equals the engine's own greedy output for the rendered prompt; the variable, the
    /// assistant message and the meta info agree.
    @Test func genMatchesDirectGeneration() async throws {
        let backend = try SGLangFixtures.backend()
        let question = "What is the capital of France?"
        let qa = SGLFunction<String> { s, q in
            s += system("You are a helpful assistant.")
            s += user(q)
            s += assistant(gen("answer", maxTokens: 16))
        }
        let state = try await qa.run(question, defaults: SamplingParameters(temperature: 0), backend: backend)
        let answer = try await state["answer"]
        let tokenizer = try SGLangFixtures.tokenizer()
        let rendered = try ChatTemplate(tokenizer: tokenizer).apply(messages: .array([
            .object(JSONObject([("role", .string("system")), ("content", .string("You are a helpful assistant."))])),
            .object(JSONObject([("role", .string("user")), ("content", .string(question))])),
        ]), addGenerationPrompt: true)
        #expect(answer == (try await Self.direct(backend, rendered, maxTokens: 16)))
        #expect(answer.contains("Paris"))
        let messages = await state.messages()
        #expect(messages.map(\.role) == ["system", "user", "assistant"])
        #expect(messages.last?.content == String(answer.drop(while: \.isWhitespace)))
        let meta = try await state.metaInfo("answer")
        #expect(meta?["prompt_tokens"]?.intValue == tokenizer.encode(rendered).count)
        #expect((meta?["completion_tokens"]?.intValue ?? 0) > 0)
        #expect(await state.text() == rendered + answer + "<|im_end|>\n")
    }

    /// `select` scores equal the token-length-normalized logprobs of transformers (within 2e-2), including a
    /// choice whose first token merges with the prompt's trailing space; every method decides as the same
    /// method computed on the fixture's numbers.
    @Test func selectScoresMatchTransformers() async throws {
        let backend = try SGLangFixtures.backend()
        try await Self.checkSelect(backend)
    }

    static func checkSelect(_ backend: any Backend) async throws {
        let fixtures = try FixtureChoices.load(tokenizer: try SGLangFixtures.tokenizer())
        #expect(fixtures.count == 2)
        for f in fixtures {
            for method in ChoicesMethod.allCases {
                let program = SGLFunction { s in
                    s += f.prompt
                    s += select("pick", choices: f.choices, choicesMethod: method)
                }
                let state = try await program.run(backend: backend)
                #expect(await state.error() == nil)
                let meta = try #require(try await state.metaInfo("pick"))
                let scores = meta["normalized_prompt_logprobs"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                #expect(scores.count == f.choices.count)
                for (got, want) in zip(scores, f.normalized) {
                    let diff: Double = (got - want).magnitude
                    #expect(diff <= 2e-2, "\(f.choices): \(got) vs \(want)")
                }
                let tokens = meta["input_token_logprobs"]?.arrayValue ?? []
                for (got, want) in zip(tokens, f.tokenLogprobs) { #expect(got.arrayValue?.count == want.count) }
                let pick = try await state["pick"]
                switch method {
                case .tokenLengthNormalized:
                    let best = f.normalized.indices.max { f.normalized[$0] < f.normalized[$1] } ?? 0
                    #expect(pick == f.choices[best])
                case .greedyTokenSelection:
                    // Greedy selection on the fixture's numbers; checked where its decisive margin is clear.
                    let width = f.tokenLogprobs.map(\.count).max() ?? 0
                    let rows: [[Double]] = f.tokenLogprobs.map { (r: [Double]) -> [Double] in
                        let mean: Double = r.reduce(0, +) / Double(r.count)
                        return r + [Double](repeating: mean, count: width - r.count)
                    }
                    var alive = Array(rows.indices)
                    var margin = Double.infinity
                    for c in 0..<width where alive.count > 1 {
                        let column = alive.map { rows[$0][c] }.sorted(by: >)
                        let top = column[0]
                        alive = alive.filter { rows[$0][c] == top }
                        if alive.count == 1 { margin = top - column[1] }
                    }
                    if margin > 5e-2 { #expect(pick == f.choices[alive[0]]) }
                case .unconditionalLikelihoodNormalized:
                    let uncondRows: [JSONValue] = meta["unconditional_token_logprobs"]?.arrayValue ?? []
                    let uncond: [[Double]] = uncondRows.map { row in row.arrayValue?.compactMap(\.doubleValue) ?? [] }
                    #expect(uncond.count == f.choices.count)
                    var values: [Double] = []
                    for (c, u) in zip(f.tokenLogprobs, uncond) {
                        var total = 0.0
                        for (a, b) in zip(c, u) { total += a - b }
                        values.append(total / Double(max(c.count, 1)))
                    }
                    let reportedRow: [JSONValue] = meta["normalized_unconditional_prompt_logprobs"]?.arrayValue ?? []
                    let reported: [Double] = reportedRow.compactMap(\.doubleValue)
                    for (got, want) in zip(reported, values) {
                        let diff: Double = (got - want).magnitude
                        #expect(diff <= 2e-2)
                    }
                    if values.count == 2, (values[0] - values[1]).magnitude > 5e-2 {
                        let best = values[0] >= values[1] ? 0 : 1
                        #expect(pick == f.choices[best])
                    }
                }
            }
        }
    }

    /// fork(3) + gatherVariable: one value per child, in child order, each equal to generating that child's text
    /// alone; the parent's text is unchanged. concateAndAppend appends the children's texts in order.
    @Test func forkJoins() async throws {
        let backend = try SGLangFixtures.backend()
        let prefix = "Arithmetic practice.\n"
        let program = SGLFunction<JoinMode> { s, mode in
            s += prefix
            let forks = try await s.fork(3)
            forks.append { i in "\(i + 1) + \(i + 1) = " + gen("sum", maxTokens: 3, stop: ["\n"]) + "\n" }
            try await forks.join(mode)
        }
        let gathered = try await program.run(.gatherVariable, defaults: SamplingParameters(temperature: 0), backend: backend)
        #expect(await gathered.error() == nil)
        let sums = try await gathered.list("sum")
        #expect(sums.count == 3)
        for (i, sum) in sums.enumerated() {
            #expect(sum == (try await Self.direct(backend, prefix + "\(i + 1) + \(i + 1) = ", maxTokens: 3, stop: ["\n"])))
        }
        #expect(await gathered.text() == prefix)

        let appended = try await program.run(.concateAndAppend, defaults: SamplingParameters(temperature: 0), backend: backend)
        var expected = prefix
        for (i, sum) in sums.enumerated() { expected += "\(i + 1) + \(i + 1) = \(sum)\n" }
        #expect(await appended.text() == expected)
    }

    struct Person: Codable, Equatable {
        var name: String
        var age: Int
    }

    /// dtype gens parse as their type, a regex gen matches its regex, and a JSON-schema gen from a Codable type
    /// decodes back into it.
    @Test func typedAndConstrainedGens() async throws {
        let backend = try SGLangFixtures.backend()
        let program = SGLFunction { s in
            s += user("Give me some numbers and facts.")
            s += assistantBegin()
            s += "An integer: " + genInt("i", maxTokens: 6) + "\n"
            s += "A decimal: " + gen("f", maxTokens: 8, dtype: .float) + "\n"
            s += "Is water wet? " + gen("b", maxTokens: 3, dtype: .bool) + "\n"
            s += "A word in quotes: " + genString("w", maxTokens: 8) + "\n"
            s += "A code: " + gen("code", maxTokens: 8, regex: "[A-Z]{3}-[0-9]{2}") + "\n"
            s += "A person: " + gen("person", maxTokens: 40, jsonSchema: try JSONSchema(Person.self))
            s += assistantEnd()
        }
        let state = try await program.run(defaults: SamplingParameters(temperature: 0), backend: backend)
        #expect(await state.error() == nil)
        _ = try await state.int("i")
        _ = try await state.double("f")
        _ = try await state.bool("b")
        let word = try await state["w"]
        #expect(word.hasPrefix("\"") && word.hasSuffix("\"") && word.count >= 2)
        let code = try await state["code"]
        #expect(code.wholeMatch(of: /[A-Z]{3}-[0-9]{2}/) != nil, "\(code)")
        _ = try await state.decode("person", as: Person.self)
        #expect(await state.messages().map(\.role) == ["user", "assistant"])
    }

    /// A streamed run delivers the text piece by piece: the pieces add up to the final text, and a variable's
    /// stream adds up to the variable.
    @Test func streaming() async throws {
        let backend = try SGLangFixtures.backend()
        let program = SGLFunction { s in
            s += user("Tell me about the sea.")
            s += assistant(gen("story", maxTokens: 12))
        }
        let state = try await program.run(defaults: SamplingParameters(temperature: 0), stream: true, backend: backend)
        let whole = state.textStream()
        let variable = state.textStream(variable: "story")
        var pieces: [String] = []
        for await p in whole { pieces.append(p) }
        var story = ""
        for await p in variable { story += p }
        let text = await state.text()
        // Several pieces — unless the subscription came after the gen ended (a loaded machine), which delivers
        // the whole text as one.
        #expect(pieces.count > 2 || pieces == [text], "\(pieces)")
        #expect(pieces.joined() == text)
        #expect(story == (try await state["story"]))
    }

    /// An invalid regex fails the gen: the error is on the state, the variable's readers are woken with
    /// `programFailed`, and later expressions are skipped. An error thrown by the program body lands there too.
    @Test func errorsSurfaceOnTheState() async throws {
        let backend = try SGLangFixtures.backend()
        let bad = SGLFunction { s in
            s += "x" + gen("a", maxTokens: 4, regex: "([a-z")
            s += "after" + gen("b", maxTokens: 4)
        }
        let state = try await bad.run(backend: backend)
        #expect(await state.error() != nil)
        await #expect(throws: SGLangError.self) { _ = try await state["a"] }
        await #expect(throws: SGLangError.self) { _ = try await state["b"] }
        #expect(!(await state.text()).contains("after"))

        struct Oops: Error {}
        let throwing = SGLFunction { s in
            s += "hello"
            throw Oops()
        }
        let failed = try await throwing.run(backend: backend)
        #expect(await failed.error() is Oops)
        await #expect(throws: SGLangError.self) { _ = try await failed["missing"] }
    }

    /// runBatch returns the states in input order, each equal to its own single run, and the traced constant
    /// prefix is cached before the batch (every program's prompt hits the cache).
    @Test func runBatchOnTheEngine() async throws {
        let backend = try SGLangFixtures.backend()
        let persona = "You are a careful assistant who answers every question with a single short sentence only."
        let program = SGLFunction<Int> { s, n in
            s += system(persona)
            s += user("What is \(n) plus \(n)?")
            s += assistant(gen("answer", maxTokens: 4))
        }
        let inputs = Array(1...6)
        let states = try await program.runBatch(inputs, defaults: SamplingParameters(temperature: 0), concurrency: 3,
                                                backend: backend)
        #expect(states.count == inputs.count)
        let prefix = try await program.tracedPrefix(inputs, backend: backend)
        #expect(prefix.hasSuffix("What is "))
        for (n, state) in zip(inputs, states) {
            let single = try await program.run(n, defaults: SamplingParameters(temperature: 0), backend: backend)
            #expect(try await state["answer"] == (try await single["answer"]))
            #expect(await state.text() == (await single.text()))
            let cached = try await state.metaInfo("answer")?["cached_tokens"]?.intValue ?? 0
            #expect(cached > 0)
        }
    }

    /// API speculative execution (completion form): one generation of at least `numAPISpecTokens` tokens without
    /// stops feeds the gens, each cut at its stop string; a constant fill that matches the speculation consumes
    /// it, otherwise the next gen generates again from the text so far.
    @Test func apiSpeculativeExecution() async throws {
        let backend = try SGLangFixtures.backend()
        let program = SGLFunction(numAPISpecTokens: 24) { s in
            s += "A list of three fruits:\n1."
            s += gen("first", maxTokens: 8, stop: ["\n"])
            s += "\n2."
            s += gen("second", maxTokens: 8, stop: ["\n"])
        }
        let state = try await program.run(defaults: SamplingParameters(temperature: 0), backend: backend)
        #expect(await state.error() == nil)
        func cut(_ text: String, stop: String, max: Int) -> (String, String) {
            let end = text.range(of: stop)?.lowerBound ?? text.index(text.startIndex, offsetBy: min(max, text.count))
            return (String(text[..<end]), String(text[end...]))
        }
        let prompt = "A list of three fruits:\n1."
        let speculation = try await Self.direct(backend, prompt, maxTokens: 24)
        let (first, rest) = cut(speculation, stop: "\n", max: 8)
        #expect(try await state["first"] == first)
        let second: String
        if rest.hasPrefix("\n2.") {
            second = cut(String(rest.dropFirst(3)), stop: "\n", max: 8).0
        } else {
            let again = try await Self.direct(backend, prompt + first + "\n2.", maxTokens: 24)
            second = cut(again, stop: "\n", max: 8).0
        }
        #expect(try await state["second"] == second)
        #expect(await state.text() == prompt + first + "\n2." + second)
    }

    /// varScope captures the text appended inside it, bind pre-binds arguments, one function calls another on
    /// the same state, and variables can be set and checked directly.
    @Test func varScopesBindAndNestedCalls() async throws {
        let backend = try SGLangFixtures.backend()
        let base = SGLFunction<(String, Int)> { s, args in
            try await s.varScope("intro") { s += "Topic: \(args.0). " }
            s += "Count: \(args.1)."
        }
        let bound = base.bind { (topic: String) in (topic, 3) }
        let outer = SGLFunction { s in
            s += "A: "
            try await bound(s, "dogs")
            try await s.user { s += "Hi" }
        }
        let state = try await outer.run(backend: backend)
        #expect(await state.error() == nil)
        #expect(try await state["intro"] == "Topic: dogs. ")
        #expect(state.contains("intro") && !state.contains("nothing"))
        state.setVariable("extra", "x")
        #expect(try await state["extra"] == "x")
        #expect(await state.text().hasPrefix("A: Topic: dogs. Count: 3."))
        #expect(await state.messages() == [ChatMessage(role: "user", content: "Hi")])
    }

    /// Images: an unreadable file and an image on a backend without image input both fail the program with an
    /// error naming the problem.
    @Test func imageErrors() async throws {
        let backend = try SGLangFixtures.backend()
        let missing = try await SGLFunction { s in s += user(image("/nonexistent/cat.png") + "What is this?") }
            .run(backend: backend)
        #expect("\(await missing.error().map { "\($0)" } ?? "")".contains("cannot read the image file"))
        let bytes = try await SGLFunction { s in
            s += user(image(data: [0x89, 0x50, 0x4E, 0x47]) + "What is this?")
            s += assistant(gen("a", maxTokens: 2))
        }.run(backend: backend)
        #expect("\(await bytes.error().map { "\($0)" } ?? "")".contains("image"))
    }

    /// Two README examples run in process (the `sglang-examples` binary with no server).
    @Test func examplesRunInProcess() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("sglang-examples").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("sglang-examples is not built next to the tests (\(binary))")
            return
        }
        for (name, key) in [("regex", "answer"), ("tip-suggestion", "detailed_tip")] {
            let run = try await ExampleProcess.run([binary, name, "--model-path", SGLangFixtures.smolLM2Path])
            #expect(run.status == 0, "\(name): \(String(decoding: run.stderr, as: UTF8.self))")
            let json = try? JSONValue.parse(bytes: run.stdout)
            #expect(json?[key] != nil, "\(name) printed no \(key)")
        }
    }

    /// A state dropped without `end()` is freed (its worker does not keep it alive forever).
    @Test func droppedStateIsFreed() async throws {
        let backend = try SGLangFixtures.backend()
        weak var weakState: ProgramState?
        do {
            let state = ProgramState(backend: backend)
            state += "Hello"
            #expect(await state.text() == "Hello")
            weakState = state
        }
        // The worker lets go at its next turn; on a loaded machine that can take a while, so wait up to 30 s.
        let deadline = ContinuousClock.now + .seconds(30)
        while weakState != nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(weakState == nil)
    }
}
