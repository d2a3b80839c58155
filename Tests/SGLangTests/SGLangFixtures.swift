import Foundation
import JSON
import Runtime
import SGLang
import Server
import Testing
import Tokenizers

/// The repository, the shared fixtures, SmolLM2, an in-process backend and live servers for the frontend tests.
enum SGLangFixtures {
    /// …/Tests/SGLangTests/SGLangFixtures.swift → three levels up.
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static var smolLM2Path: String { repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path }

    /// `../shared/fixtures/<relative>` beside the repository.
    static func shared(_ relative: String) throws -> String {
        let path = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/\(relative)").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("shared fixture missing: \(path) (expected ../shared/fixtures beside the repository)")
            throw Failure("missing \(path)")
        }
        return path
    }

    /// The rows of a JSON-lines fixture.
    static func rows(_ relative: String) throws -> [JSONValue] {
        try String(contentsOfFile: try shared(relative), encoding: .utf8).split(separator: "\n")
            .map { try JSONValue.parse(String($0)) }
    }

    /// SmolLM2 loaded once.
    static let smolLM2: Result<LoadedModel, any Error> = Result {
        guard FileManager.default.fileExists(atPath: smolLM2Path) else {
            throw Failure("missing \(smolLM2Path) (run `bash scripts/fetch-smollm2.sh`)")
        }
        return try ModelLoader.load(path: smolLM2Path)
    }

    static func model() throws -> LoadedModel {
        do { return try smolLM2.get() } catch {
            Issue.record("cannot load SmolLM2: \(error)")
            throw error
        }
    }

    /// The in-process backend on SmolLM2 (one engine for every test).
    static let engineBackend: Result<EngineBackend, any Error> = Result {
        let engine = try Engine(model: try smolLM2.get(), options: EngineOptions(contextLength: 2048, maxTotalTokens: 16384))
        return EngineBackend(engine: engine, modelPath: smolLM2Path)
    }

    static func backend() throws -> EngineBackend {
        do { return try engineBackend.get() } catch {
            Issue.record("cannot start the SmolLM2 engine: \(error)")
            throw error
        }
    }

    static func tokenizer() throws -> Tokenizer {
        guard let t = try model().tokenizer else { throw Failure("SmolLM2 has no tokenizer") }
        return t
    }

    /// Runs `body` against a fresh server on 127.0.0.1 and a free port, and a `RuntimeEndpoint` on it that uses
    /// the same chat template as the in-process backend; always stops the server.
    static func withServer(_ configure: (inout ServerArguments) -> Void = { _ in },
                           _ body: (SGLangServer, RuntimeEndpoint) async throws -> Void) async throws {
        var args = ServerArguments(modelPath: smolLM2Path)
        args.port = 0
        args.maxTotalTokens = 16384
        args.contextLength = 2048
        args.logLevel = "warning"
        configure(&args)
        let server = try SGLangServer(arguments: args, model: try model())
        _ = try await server.start()
        do {
            let template = try await backend().chatTemplate()
            let endpoint = try await RuntimeEndpoint(url: "http://127.0.0.1:\(server.port ?? 0)", apiKey: args.apiKey,
                                                     chatTemplate: template)
            try await body(server, endpoint)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

/// Reference numbers for `select` computed straight from `prompt_logprobs.jsonl` (transformers' logprobs),
/// independently of the frontend: a choice's tokens are the fixture ids after the longest common token prefix
/// of the fixture ids and the tokenized prompt; its score is the mean of their logprobs.
struct FixtureChoices {
    var prompt: String
    var choices: [String]
    /// Per choice: the logprob of each choice token.
    var tokenLogprobs: [[Double]]

    var normalized: [Double] { tokenLogprobs.map { $0.reduce(0, +) / Double($0.count) } }

    /// The pairs of fixture rows that share a prompt (consecutive rows).
    static func load(tokenizer: Tokenizer) throws -> [FixtureChoices] {
        let rows = try SGLangFixtures.rows("smollm2/prompt_logprobs.jsonl")
        var out: [FixtureChoices] = []
        var i = 0
        while i + 1 < rows.count {
            let pair = [rows[i], rows[i + 1]]
            i += 2
            let texts = pair.compactMap { $0["text"]?.stringValue }
            guard texts.count == 2 else { throw SGLangFixtures.Failure("bad fixture row") }
            let common = String(zip(texts[0], texts[1]).prefix(while: { $0 == $1 }).map(\.0))
            let promptIds = tokenizer.encode(common)
            var scores: [[Double]] = []
            for row in pair {
                let ids = row["ids"]?.arrayValue?.compactMap(\.intValue) ?? []
                let lp = row["next_token_logprobs"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                let k = zip(ids, promptIds).prefix(while: { $0 == $1 }).count
                // next_token_logprobs[t] is the logprob of ids[t + 1].
                scores.append(Array(lp[(k - 1)..<(ids.count - 1)]))
            }
            out.append(FixtureChoices(prompt: common, choices: texts.map { String($0.dropFirst(common.count)) },
                                      tokenLogprobs: scores))
        }
        return out
    }
}
