import Foundation
import JSON
import SGLang

/// The README's image QA: `s += user(image(path) + question)`, `s += assistant(gen("answer", ...))`. It needs a
/// vision-language model (LLaVA); a text-only model answers with the runtime's "does not accept images" error.
enum ImageQA {
    /// Environment variables `--image` / `--question` set (default: the tiny LLaVA test image, a fixed question).
    static let imageVariable = "SGLANG_EXAMPLE_IMAGE"
    static let questionVariable = "SGLANG_EXAMPLE_QUESTION"
    static let defaultImage = "Tests/ModelsTests/Resources/tiny-llava/image-a.png"

    static let program = SGLFunction<(String, String)> { s, q in
        s += user(image(q.0) + q.1)
        s += assistant(gen("answer", maxTokens: 32))
    }

    static func run(_ b: any Backend, _ d: SamplingParameters) async throws -> JSONObject {
        let env = ProcessInfo.processInfo.environment
        let path = env[imageVariable] ?? defaultImage
        let question = env[questionVariable] ?? "What is in this picture?"
        let s = try await program.run((path, question), defaults: d, backend: b)
        var o = try await Examples.variables(s, ["answer"])
        if let meta = try? await s.metaInfo("answer"), let tokens = meta["prompt_tokens"] { o["prompt_tokens"] = tokens }
        return o
    }
}
