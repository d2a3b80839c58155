import Foundation
import JSON
import Runtime
import SGLang
import Server
import Testing

/// The README's image QA (`sglang-examples image-qa`) on the tiny LLaVA fixture, in process and against a live
/// server, and on the text-only SmolLM2 (the runtime's "does not accept images" error, no crash).
@Suite(.serialized) struct ImageQATests {
    static let llavaPath = SGLangFixtures.repoRoot.appendingPathComponent("Tests/ModelsTests/Resources/tiny-llava").path
    static let imageA = llavaPath + "/image-a.png"
    static let imageB = llavaPath + "/image-b.png"
    static let featureLength = 16

    static var binary: String? {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("sglang-examples").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            Issue.record("sglang-examples is not built next to the tests (\(path))")
            return nil
        }
        return path
    }

    /// The example's printed variables: an answer, a user message then an assistant message, and a prompt that
    /// holds the image's rows (the chat text alone is far shorter than the image).
    static func checkOutput(_ run: ExampleProcess.Finished, _ label: String, exactTokens: Bool = true) throws {
        #expect(run.status == 0, "\(label): \(String(decoding: run.stderr, as: UTF8.self))")
        let json = try JSONValue.parse(bytes: run.stdout)
        #expect(json["answer"]?.stringValue != nil, "\(label): no answer")
        let roles = (json["messages"]?.arrayValue ?? []).compactMap { $0["role"]?.stringValue }
        #expect(roles == ["user", "assistant"], "\(label): roles \(roles)")
        let tokens = json["prompt_tokens"]?.intValue ?? 0
        // Byte-level vocabulary, specials one token each: "<|im_start|>user\n" (6) + the image rows (16) +
        // "What is in this picture?" (24) + "<|im_end|>\n<|im_start|>assistant\n" (13). Through a server the
        // endpoint picks its template by model path ("default" here), so only the image rows and question are sure.
        if exactTokens {
            #expect(tokens == 6 + featureLength + 24 + 13, "\(label): prompt_tokens \(tokens)")
        } else {
            #expect(tokens > featureLength + 24, "\(label): prompt_tokens \(tokens)")
        }
    }

    @Test func inProcess() async throws {
        guard let binary = Self.binary else { return }
        let run = try await ExampleProcess.run([binary, "image-qa", "--model-path", Self.llavaPath, "--image", Self.imageA])
        try Self.checkOutput(run, "in process")
    }

    @Test func againstAServerAndTheCacheTellsImagesApart() async throws {
        guard let binary = Self.binary else { return }
        var args = ServerArguments(modelPath: Self.llavaPath)
        args.port = 0
        args.maxTotalTokens = 2048
        args.contextLength = 512
        args.logLevel = "warning"
        let model = try ModelLoader.load(path: Self.llavaPath)
        let server = try SGLangServer(arguments: args, model: model)
        _ = try await server.start()
        do {
            let url = "http://127.0.0.1:\(server.port ?? 0)"
            let first = try await ExampleProcess.run([binary, "image-qa", "--url", url, "--image", Self.imageA])
            try Self.checkOutput(first, "server", exactTokens: false)
            // The same program with another image: the cached prefix ends before the image's rows.
            // With the model's own chat template (as the in-process backend picks it), the prompt is the same one.
            let template = EngineBackend.template(modelPath: Self.llavaPath, tokenizer: model.tokenizer)
            let endpoint = try await RuntimeEndpoint(url: url, chatTemplate: template)
            let program = SGLFunction<String> { s, path in
                s += user(image(path) + "What is in this picture?")
                s += assistant(gen("answer", maxTokens: 4))
            }
            let warm = try await program.run(Self.imageA, defaults: SamplingParameters(temperature: 0), backend: endpoint)
            if let e = await warm.error() { throw e }
            let s = try await program.run(Self.imageB, defaults: SamplingParameters(temperature: 0), backend: endpoint)
            if let e = await s.error() { throw e }
            let meta = try await s.metaInfo("answer")
            let cached = meta?["cached_tokens"]?.intValue ?? -1
            // "<|im_start|>user\n" (6 tokens) is shared; the image rows differ.
            #expect(cached >= 0 && cached <= 6, "cached \(cached)")
            let again = try await program.run(Self.imageA, defaults: SamplingParameters(temperature: 0), backend: endpoint)
            let againMeta = try await again.metaInfo("answer")
            let prompt = againMeta?["prompt_tokens"]?.intValue ?? 0
            #expect(prompt == 6 + Self.featureLength + 24 + 13)
            #expect(againMeta?["cached_tokens"]?.intValue == prompt - 1)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func textOnlyModelsSayTheyDoNotAcceptImages() async throws {
        guard let binary = Self.binary else { return }
        let run = try await ExampleProcess.run([binary, "image-qa", "--model-path", SGLangFixtures.smolLM2Path,
                                                "--image", Self.imageA])
        let stderr = String(decoding: run.stderr, as: UTF8.self)
        #expect(run.status == 2, "\(stderr)")
        #expect(stderr.contains("does not accept images"), "\(stderr)")
    }
}
