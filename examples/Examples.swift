import Foundation
import JSON
import SGLang

/// The README's programs, each returning the variables it produced (printed as JSON by `main.swift`).
enum Examples {
    typealias Run = @Sendable (any Backend, SamplingParameters) async throws -> JSONObject

    static let all: [(name: String, summary: String, run: Run)] = [
        ("multi-turn", "two questions in one chat (the quick start)", multiTurn),
        ("tool-use", "select a tool, then use it", toolUse),
        ("tip-suggestion", "fork into parallel tips and join them", tipSuggestion),
        ("regex", "an IP address constrained by a regular expression", regex),
        ("character-regex", "a Harry Potter character as JSON constrained by SGLang's character regex", characterRegex),
        ("json", "a character as JSON from a Codable type's schema", json),
        ("typed", "int, float, bool and string gens", typed),
        ("batch", "runBatch over several questions", batch),
        ("stream", "stream the answer as it is generated", stream),
        ("image-qa", "a question about an image (a LLaVA model; --image PATH)", ImageQA.run),
    ]

    static func variables(_ s: ProgramState, _ names: [String]) async throws -> JSONObject {
        if let e = await s.error() { throw e }
        var o = JSONObject()
        for n in names {
            switch try await s.value(n) {
            case .string(let v): o[n] = .string(v)
            case .list(let l): o[n] = .array(l.map(JSONValue.string))
            }
        }
        o["messages"] = .array(await s.messages().map(\.json))
        return o
    }

    static let multiTurnQuestion = SGLFunction<(String, String)> { s, q in
        s += system("You are a helpful assistant.")
        s += user(q.0)
        s += assistant(gen("answer_1", maxTokens: 48))
        s += user(q.1)
        s += assistant(gen("answer_2", maxTokens: 48))
    }

    static func multiTurn(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let s = try await multiTurnQuestion.run(
            ("What is the capital of the United States?", "List two local attractions."), defaults: d, backend: b)
        return try await variables(s, ["answer_1", "answer_2"])
    }

    static func toolUse(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let program = SGLFunction<String> { s, question in
            s += user(question)
            s += assistantBegin()
            s += "To answer this question, I need to use a "
                + select("tool", choices: ["calculator", "search engine"]) + ". "
            if try await s["tool"] == "calculator" {
                s += "The math expression is " + gen("expression", maxTokens: 16, stop: ["\n"])
            } else {
                s += "The key word to search is " + gen("word", maxTokens: 16, stop: ["\n"])
            }
            s += assistantEnd()
        }
        let s = try await program.run("What is 17 times 23?", defaults: d, backend: b)
        let tool = try await s["tool"]
        return try await variables(s, ["tool", tool == "calculator" ? "expression" : "word"])
    }

    static func tipSuggestion(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let program = SGLFunction { s in
            s += "Here are two tips for staying healthy: 1. Balanced Diet. 2. Regular Exercise.\n\n"
            let forks = try await s.fork(2)
            try forks.append(["Balanced Diet", "Regular Exercise"].map { tip in
                "Now, expand tip \(tip) into a paragraph:\n" + gen("detailed_tip", maxTokens: 32, stop: ["\n\n"])
            })
            try await forks.join()
            s += "Tip 1:" + Expr((try await s.list("detailed_tip")).first ?? "") + "\n"
            s += "In summary" + gen("summary", maxTokens: 24)
        }
        let s = try await program.run(defaults: d, backend: b)
        return try await variables(s, ["detailed_tip", "summary"])
    }

    static func regex(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let program = SGLFunction { s in
            s += "Q: What is the IP address of the Google DNS servers?\n"
            s += "A: " + gen("answer", maxTokens: 20, temperature: 0,
                             regex: #"((25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(25[0-5]|2[0-4]\d|[01]?\d\d?)"#)
        }
        return try await variables(try await program.run(defaults: d, backend: b), ["answer"])
    }

    /// The README's `character_regex`.
    static let characterPattern = #"\{\n"#
        + #"    "name": "[\w\d\s]{1,16}",\n"#
        + #"    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n"#
        + #"    "blood status": "(Pure-blood|Half-blood|Muggle-born)",\n"#
        + #"    "occupation": "(student|teacher|auror|ministry of magic|death eater|order of the phoenix)",\n"#
        + #"    "wand": \{\n"#
        + #"        "wood": "[\w\d\s]{1,16}",\n"#
        + #"        "core": "[\w\d\s]{1,16}",\n"#
        + #"        "length": [0-9]{1,2}\.[0-9]{0,2}\n"#
        + #"    \},\n"#
        + #"    "alive": "(Alive|Deceased)",\n"#
        + #"    "patronus": "[\w\d\s]{1,16}",\n"#
        + #"    "bogart": "[\w\d\s]{1,16}"\n"#
        + #"\}"#

    static func characterRegex(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let program = SGLFunction<String> { s, name in
            s += name + " is a character in Harry Potter. Please fill in the following information about this character.\n"
            s += gen("json_output", maxTokens: 256, regex: characterPattern)
        }
        let s = try await program.run("Hermione Granger", defaults: d, backend: b)
        return try await variables(s, ["json_output"])
    }

    struct Character: Codable {
        var name: String
        var house: String
        var age: Int
        var wand: Wand
        struct Wand: Codable {
            var wood: String
            var length: Double
        }
    }

    static func json(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let schema = try JSONSchema(Character.self)
        let program = SGLFunction<String> { s, name in
            s += user("Describe \(name) from Harry Potter in JSON.")
            s += assistant(gen("json_output", maxTokens: 96, jsonSchema: schema))
        }
        let s = try await program.run("Hermione Granger", defaults: d, backend: b)
        _ = try await s.decode("json_output", as: Character.self)
        return try await variables(s, ["json_output"])
    }

    static func typed(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let program = SGLFunction { s in
            s += user("Answer briefly.")
            s += assistantBegin()
            s += "How many legs does a spider have? " + genInt("legs", maxTokens: 4) + "\n"
            s += "What is pi to two decimals? " + gen("pi", maxTokens: 6, dtype: .float) + "\n"
            s += "Is the sun a star? " + gen("star", maxTokens: 3, dtype: .bool) + "\n"
            s += "Name a color in quotes: " + genString("color", maxTokens: 6)
            s += assistantEnd()
        }
        let s = try await program.run(defaults: d, backend: b)
        _ = try await (s.int("legs"), s.double("pi"), s.bool("star"))
        return try await variables(s, ["legs", "pi", "star", "color"])
    }

    static func batch(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let program = SGLFunction<String> { s, question in
            s += system("You are a helpful assistant. Answer every question in one short sentence, please.")
            s += user(question)
            s += assistant(gen("answer", maxTokens: 24))
        }
        let questions = ["What is the capital of the United Kingdom?", "What is the capital of France?",
                         "What is the capital of Japan?"]
        let states = try await program.runBatch(questions, defaults: d, progressBar: true, backend: b)
        var answers: [JSONValue] = []
        for s in states { answers.append(.string(try await s["answer"])) }
        return JSONObject([("answers", .array(answers))])
    }

    static func stream(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let s = try await multiTurnQuestion.run(
            ("What is the capital of the United States?", "List two local attractions."),
            defaults: d, stream: true, backend: b)
        var pieces = 0
        for await piece in s.textStream() {
            FileHandle.standardError.write(Data(piece.utf8))
            pieces += 1
        }
        FileHandle.standardError.write(Data("\n".utf8))
        var o = try await variables(s, ["answer_1", "answer_2"])
        o["pieces"] = .int(pieces)
        return o
    }
}
