import Foundation
import JSON
import Runtime
@testable import SGLang
import Server
import Testing
import Tokenizers

/// The OpenAI backend against our own server's `/v1` (SmolLM2, greedy): completion and chat programs give the
/// same results as the native `/generate` path (`RuntimeEndpoint`), select agrees with teacher-forced
/// logprobs, streams add up, constraints hold, errors name the status and the server's message, and API
/// speculative execution makes one call where the plain program makes two (counted by the server's engine).
@Suite(.serialized) struct OpenAIBackendTests {
    static let greedy = SamplingParameters(temperature: 0)

    /// An OpenAI backend on `server`'s `/v1` for SmolLM2, rendering roles with the in-process template.
    static func backend(_ server: SGLangServer, chat: Bool, extensions: Bool = false,
                        apiKey: String? = nil, model: String = SGLangFixtures.smolLM2Path) async throws -> OpenAI {
        try OpenAI(model: model, baseURL: "http://127.0.0.1:\(server.port ?? 0)/v1", apiKey: apiKey ?? "",
                   isChatModel: chat, chatTemplate: try await SGLangFixtures.backend().chatTemplate(),
                   tokenizer: try SGLangFixtures.tokenizer(), sglangExtensions: extensions, retries: 1)
    }

    static func finished(_ server: SGLangServer) async -> Int { await server.engine.stats().finishedRequests }

    /// A completion program's gens (with stops and a template-free prompt) equal the native API's.
    @Test func completionProgramMatchesNativeAPI() async throws {
        try await SGLangFixtures.withServer { server, endpoint in
            let openai = try await Self.backend(server, chat: false)
            let program = SGLFunction { s in
                s += "Q: What is the capital of France?\nA:" + gen("a", maxTokens: 16, stop: ["\n"])
                s += "\nQ: Name three colors.\nA:" + gen("b", maxTokens: 12)
            }
            let before = await Self.finished(server)
            let a = try await program.run(defaults: Self.greedy, backend: openai)
            #expect(await a.error() == nil)
            #expect(await Self.finished(server) - before == 2)
            let b = try await program.run(defaults: Self.greedy, backend: endpoint)
            #expect(try await a["a"] == (try await b["a"]))
            #expect(try await a["b"] == (try await b["b"]))
            #expect(try await !a["a"].contains("\n"))
            #expect(try await !a["a"].isEmpty)
            #expect(await a.text() == (await b.text()))
            let meta = try #require(try await a.metaInfo("b"))
            #expect(meta["completion_tokens"]?.intValue == 12)
            #expect(meta["finish_reason"]?.stringValue == "length")
            #expect(openai.tokenUsage.completionTokens >= 12)
        }
    }

    /// A multi-turn chat program sends the messages; the server's template renders them as the frontend
    /// template renders the text for `/generate`, so the answers are equal.
    @Test func chatProgramMatchesNativeAPI() async throws {
        try await SGLangFixtures.withServer { server, endpoint in
            let openai = try await Self.backend(server, chat: true)
            let program = SGLFunction { s in
                s += system("You are a helpful assistant.")
                s += user("What is the capital of France?")
                s += assistant(gen("a1", maxTokens: 16))
                s += user("And of Italy?")
                s += assistant(gen("a2", maxTokens: 16, stop: ["."]))
            }
            let a = try await program.run(defaults: Self.greedy, backend: openai)
            #expect(await a.error() == nil)
            let b = try await program.run(defaults: Self.greedy, backend: endpoint)
            #expect(try await a["a1"] == (try await b["a1"]))
            #expect(try await a["a2"] == (try await b["a2"]))
            #expect(try await !a["a2"].contains("."))
            #expect(await a.messages().map(\.role) == ["system", "user", "assistant", "user", "assistant"])
            #expect(await a.messages() == (await b.messages()))
        }
    }

    /// Chat models: a gen must open the assistant turn, and select is refused (SGLang's rules).
    @Test func chatModelRules() async throws {
        try await SGLangFixtures.withServer { server, _ in
            let openai = try await Self.backend(server, chat: true)
            let late = try await SGLFunction { s in
                s += user("Hi")
                s += assistant("Sure: " + gen("x", maxTokens: 4))
            }.run(defaults: Self.greedy, backend: openai)
            let lateError = try #require(await late.error())
            #expect("\(lateError)".contains("right after assistant begins"))
            let choice = try await SGLFunction { s in
                s += user("Pick")
                s += assistant(select("c", choices: ["a", "b"]))
            }.run(defaults: Self.greedy, backend: openai)
            #expect("\(try #require(await choice.error()))".contains("select/choices on the chat model"))
        }
    }

    /// select by logit_bias, one token per call: the decision (and every score) equals a naive replay of the
    /// race on teacher-forced logprobs from the native API.
    @Test func selectAgreesWithTeacherForcedLogprobs() async throws {
        try await SGLangFixtures.withServer { server, endpoint in
            let openai = try await Self.backend(server, chat: false)
            let tokenizer = try SGLangFixtures.tokenizer()
            let prompt = "The ocean is big and deep. In the ocean you can see a"
            let cases: [[String]] = [[" blue whale", " blue sky", " green tree"], [" fish", " car", " house"]]
            for choices in cases {
                let state = try await SGLFunction { s in
                    s += prompt + select("c", choices: choices)
                }.run(defaults: Self.greedy, backend: openai)
                #expect(await state.error() == nil)
                let decision = try await state["c"]
                let scores = try #require(try await state.metaInfo("c")?["scores"]?.arrayValue?.compactMap(\.intValue))

                // Reference: the same race, each step's winner the valid token with the highest logprob.
                let ids = choices.map { tokenizer.encode($0, addSpecialTokens: false) }
                var context = tokenizer.encode(prompt, addSpecialTokens: false)
                var valid = ids.map { !$0.isEmpty }
                var expected = Array(repeating: 0, count: choices.count)
                for step in 0..<(ids.map(\.count).max() ?? 0) {
                    let candidates = Set(ids.indices.filter { valid[$0] }.map { ids[$0][step] })
                    guard !candidates.isEmpty else { break }
                    let ordered = Array(candidates)
                    let scored = try await endpoint.promptLogprobs(ids: ordered.map { context + [$0] })
                    let logprobs = scored.map { $0.last?.logprob ?? -.infinity }
                    let winner = ordered[ChoicesMethod.argmax(logprobs)]
                    for i in ids.indices where valid[i] {
                        if step == ids[i].count - 1 { valid[i] = false }
                        if ids[i][step] == winner { expected[i] += 1 } else { valid[i] = false }
                    }
                    if valid.filter({ $0 }).count <= 1 { break }
                    context.append(winner)
                }
                #expect(scores == expected, "\(choices)")
                #expect(decision == choices[ChoicesMethod.argmax(expected.map(Double.init))])
                #expect(await state.text() == prompt + decision)
            }
        }
    }

    /// Streams over SSE (completion and chat): more than two pieces that add up to the non-streamed result.
    @Test func streamingCompletionAndChat() async throws {
        try await SGLangFixtures.withServer { server, _ in
            for chat in [false, true] {
                let openai = try await Self.backend(server, chat: chat)
                let program = SGLFunction { s in
                    if chat {
                        s += user("Describe a forest.")
                        s += assistant(gen("d", maxTokens: 12))
                    } else {
                        s += "A forest is" + gen("d", maxTokens: 12)
                    }
                }
                let streamed = try await program.run(defaults: Self.greedy, stream: true, backend: openai)
                var pieces: [String] = []
                for await p in streamed.textStream(variable: "d") where !p.isEmpty { pieces.append(p) }
                #expect(await streamed.error() == nil)
                let generated = try await streamed["d"]
                // Several pieces — unless the subscription came after the gen ended (a loaded machine), which
                // delivers the whole variable as one.
                #expect(pieces.count > 2 || pieces == [generated], "chat: \(chat): \(pieces)")
                #expect(pieces.joined() == generated)
                let plain = try await program.run(defaults: Self.greedy, backend: openai)
                #expect(try await streamed["d"] == (try await plain["d"]), "chat: \(chat)")
                let meta = try #require(try await streamed.metaInfo("d"))
                #expect(meta["completion_tokens"]?.intValue == 12)
                #expect(meta["finish_reason"]?.stringValue == "length")
            }
        }
    }

    struct Person: Decodable {
        var name: String
        var age: Int
    }

    /// Constraints: a JSON schema through `response_format` (chat), regex with SGLang's extensions (equal to
    /// the native API), dtype str and int the SGLang way, and a regex without extensions refused.
    @Test func constrainedGens() async throws {
        try await SGLangFixtures.withServer { server, endpoint in
            let chat = try await Self.backend(server, chat: true)
            let json = try await SGLFunction { s in
                s += user("Describe a person as JSON.")
                s += assistant(gen("p", maxTokens: 48, jsonSchema: try JSONSchema(Person.self)))
            }.run(defaults: Self.greedy, backend: chat)
            #expect(await json.error() == nil)
            let person = try await json.decode("p", as: Person.self)
            #expect(!person.name.isEmpty)

            let regexProgram = SGLFunction { s in
                s += "Flight code:" + gen("code", maxTokens: 8, regex: "[A-Z]{2}[0-9]{3}")
            }
            let extended = try await Self.backend(server, chat: false, extensions: true)
            let a = try await regexProgram.run(defaults: Self.greedy, backend: extended)
            let b = try await regexProgram.run(defaults: Self.greedy, backend: endpoint)
            #expect(try await a["code"].wholeMatch(of: /[A-Z]{2}[0-9]{3}/) != nil)
            #expect(try await a["code"] == (try await b["code"]))

            let plain = try await Self.backend(server, chat: false)
            let refused = try await regexProgram.run(defaults: Self.greedy, backend: plain)
            #expect("\(try #require(await refused.error()))".contains("no regex constraint"))

            let typed = try await SGLFunction { s in
                s += "Her name is" + genString("name", maxTokens: 8)
                s += ". The year after 1999 is " + genInt("year", maxTokens: 6)
            }.run(defaults: Self.greedy, backend: plain)
            #expect(await typed.error() == nil)
            let name = try await typed["name"]
            #expect(name.count >= 2 && name.hasPrefix("\"") && name.hasSuffix("\""))
            #expect(!name.dropFirst().dropLast().contains("\""))
            let year = try await typed["year"]
            #expect(!year.isEmpty && year.allSatisfy(\.isNumber), "\(year.debugDescription)")
        }
    }

    /// HTTP errors carry the status and the server's message; the API key goes in `Authorization`.
    @Test func errorsAndAPIKey() async throws {
        try await SGLangFixtures.withServer({ $0.apiKey = "sk-local" }) { server, _ in
            let program = SGLFunction { s in s += "Hello" + gen("x", maxTokens: 2) }
            let noKey = try await program.run(defaults: Self.greedy, backend: try await Self.backend(server, chat: false))
            let unauthorized = "\(try #require(await noKey.error()))"
            #expect(unauthorized.contains("401") && unauthorized.contains("Unauthorized"), "\(unauthorized)")

            let wrongModel = try await Self.backend(server, chat: false, apiKey: "sk-local", model: "no-such-model")
            let missing = "\(try #require(await program.run(defaults: Self.greedy, backend: wrongModel).error()))"
            #expect(missing.contains("404") && missing.contains("The model `no-such-model` does not exist."), "\(missing)")

            let ok = try await program.run(defaults: Self.greedy,
                                           backend: try await Self.backend(server, chat: false, apiKey: "sk-local"))
            #expect(await ok.error() == nil)
            #expect(try await !ok["x"].isEmpty)

            // https speaks TLS: against this plain-HTTP server the handshake fails with an error that says so.
            let port = try #require(server.port)
            let tls = try OpenAI(model: "smollm2", baseURL: "https://127.0.0.1:\(port)/v1", isChatModel: false, retries: 1)
            let refused = try await program.run(defaults: Self.greedy, backend: tls)
            let tlsError = "\(try #require(await refused.error()))"
            #expect(tlsError.contains("TLS with 127.0.0.1:\(port) failed"), "\(tlsError)")
        }
        #expect(try OpenAI(model: "gpt-4o").modelName == "gpt-4o")
    }

    /// API speculative execution against `/v1/completions`: two consecutive gens (name, job) make one call
    /// instead of two (finished requests counted by the server's engine), with the same structure and the same
    /// first gen.
    @Test func speculativeExecutionMakesOneCall() async throws {
        try await SGLangFixtures.withServer { server, _ in
            let openai = try await Self.backend(server, chat: false)
            let body: @Sendable (ProgramState) async throws -> Void = { s in
                s += "Name: Alice\nJob: doctor\n\nName: Bob\nJob: teacher\n\nName: Carol\nJob: engineer\n\nName:"
                s += gen("name", maxTokens: 8, stop: ["\n"]) + "\nJob:" + gen("job", maxTokens: 8, stop: ["\n"])
            }
            var before = await Self.finished(server)
            let plain = try await SGLFunction<Void>(body).run(defaults: Self.greedy, backend: openai)
            #expect(await plain.error() == nil)
            #expect(await Self.finished(server) - before == 2)

            before = await Self.finished(server)
            let speculated = try await SGLFunction<Void>(numAPISpecTokens: 32, body).run(defaults: Self.greedy, backend: openai)
            #expect(await speculated.error() == nil)
            #expect(await Self.finished(server) - before == 1)

            for state in [plain, speculated] {
                let name = try await state["name"], job = try await state["job"]
                #expect(!name.isEmpty && !job.isEmpty && !name.contains("\n") && !job.contains("\n"))
                #expect(await state.text().hasSuffix("Name:" + name + "\nJob:" + job))
            }
            #expect(try await plain["name"] == (try await speculated["name"]))
            #expect(try await plain["job"] == (try await speculated["job"]))
            #expect(await plain.text() == (await speculated.text()))
        }
    }

    /// The chat form of API speculative execution, on the backend side: one call per assistant turn, split
    /// among the turn's gens at their stop strings around the constant text.
    @Test func chatTurnSpeculationMakesOneCall() async throws {
        try await SGLangFixtures.withServer { server, _ in
            let openai = try await Self.backend(server, chat: true)
            let messages = [
                ChatMessage(role: "system", content: "You are a helpful assistant."),
                ChatMessage(role: "user", content: "Give one short line that names a fruit, then a period and "
                            + "a color. Answer in the form 'Fruit: <fruit>. Color: <color>.'"),
            ]
            let template = try await openai.chatTemplate()
            let prefix = try template.affixes(role: "assistant", history: messages).prefix
            let context = ProgramContext(programID: "t", text: prefix, messages: messages)
            var turn = ChatSpeculation(maxTokens: 24)
            var p = Self.greedy
            p.stop = ["."]
            try turn.addGen("line", p)
            turn.addFill(".")
            p.stop = []
            try turn.addGen("rest", p)
            let before = await Self.finished(server)
            let outcome = try await openai.speculateAssistantTurn(context, turn)
            let calls = await Self.finished(server) - before

            // The same turn as one plain chat completion (no stop, the turn's budget), split by hand.
            var whole = Self.greedy
            whole.maxNewTokens = 24
            let reference = try await openai.generate(context, whole).text
            let cut = try #require(reference.firstIndex(of: "."), "no period in \(reference.debugDescription)")
            #expect(calls == 1)
            #expect(outcome.matched)
            #expect(outcome.texts == [String(reference[..<cut]), ".", String(reference[reference.index(after: cut)...])])
            #expect(outcome.variables == ["line": String(reference[..<cut]),
                                          "rest": String(reference[reference.index(after: cut)...])])
            var mismatched = Self.greedy
            mismatched.temperature = 0.5
            #expect(throws: SGLangError.self) { try turn.addGen("other", mismatched) }
        }
    }

    /// API speculative execution in a chat program: the assistant turn's two gens and its constant text come
    /// from one `/v1/chat/completions` call, and together they are the plain one-gen turn's answer.
    @Test func chatProgramSpeculationMakesOneCall() async throws {
        try await SGLangFixtures.withServer { server, _ in
            let openai = try await Self.backend(server, chat: true)
            let question = "Give one short line that names a fruit, then a period and a color."
            let before = await Self.finished(server)
            let state = try await SGLFunction<Void>(numAPISpecTokens: 24) { s in
                s += system("You are a helpful assistant.")
                s += user(question)
                s += assistant(gen("line", maxTokens: 24, stop: ["."]) + "." + gen("rest", maxTokens: 24))
            }.run(defaults: Self.greedy, backend: openai)
            #expect(await state.error() == nil)
            #expect(await Self.finished(server) - before == 1)
            let plain = try await SGLFunction { s in
                s += system("You are a helpful assistant.")
                s += user(question)
                s += assistant(gen("whole", maxTokens: 24))
            }.run(defaults: Self.greedy, backend: openai)
            let whole = try await plain["whole"]
            let line = try await state["line"], rest = try await state["rest"]
            #expect(!line.isEmpty && !line.contains("."))
            #expect(line + "." + rest == whole)
            #expect(await state.messages() == (await plain.messages()))
        }
    }

    /// Splitting a speculated turn (pure logic, no server).
    @Test func chatSpeculationMatching() throws {
        var turn = ChatSpeculation(maxTokens: 64)
        var p = SamplingParameters(temperature: 0)
        turn.addFill("Name: ")
        p.stop = ["\n"]
        try turn.addGen("name", p)
        turn.addFill("\nJob: ")
        p.stop = []
        try turn.addGen("job", p)
        let ok = turn.match("Name: Ada\nJob: engineer at the mill")
        #expect(ok.matched)
        #expect(ok.texts == ["Name: ", "Ada", "\nJob: ", "engineer at the mill"])
        #expect(ok.variables == ["name": "Ada", "job": "engineer at the mill"])
        let wrongLiteral = turn.match("Title: Ada\nJob: x")
        #expect(!wrongLiteral.matched)
        #expect(wrongLiteral.texts == ["Name: ", "", "\nJob: ", ""])
        let noStop = turn.match("Name: Ada")
        #expect(!noStop.matched)
        #expect(noStop.variables == ["name": "", "job": ""])
        #expect(noStop.texts.joined() == "Name: \nJob: ")
    }
}
