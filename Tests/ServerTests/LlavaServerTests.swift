import Foundation
import JSON
import Runtime
import Server
import Testing

/// `image_data` on `/generate` and `image_url` parts on `/v1/chat/completions` against a live server on the tiny
/// LLaVA fixture (Tests/ModelsTests/Resources/tiny-llava: CLIP tower, 16 image rows, `<image>` = id 259).
@Suite(.serialized) struct LlavaServerTests {
    static let folder = ServerFixture.repoRoot.appendingPathComponent("Tests/ModelsTests/Resources/tiny-llava").path
    static let featureLength = 16
    static let prompt = "<|im_start|>user\n<image>\nWhat is in the picture?<|im_end|>\n<|im_start|>assistant\n"

    static let llava: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: folder) }

    static func image(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: folder + "/" + name) else {
            throw ServerFixture.Failure("missing \(folder)/\(name)")
        }
        return [UInt8](data)
    }

    static func withServer(_ body: (SGLangServer) async throws -> Void) async throws {
        try await ServerFixture.withServer(modelPath: folder, loaded: try llava.get(), {
            $0.maxTotalTokens = 2048
            $0.contextLength = 512
        }, body)
    }

    static func generate(_ server: SGLangServer, image: JSONValue, maxTokens: Int = 4) async throws -> CurlResult {
        try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
            ("text", str(prompt)), ("image_data", image),
            ("sampling_params", obj(("max_new_tokens", num(maxTokens)), ("temperature", .int(0)))),
        ))
    }

    /// Prompt tokens before the image.
    static var imageOffset: Int {
        let ids = (try? llava.get().tokenizer?.encode(prompt)) ?? []
        return ids.firstIndex(of: 259) ?? -1
    }

    /// The prompt's token count as written (one `<image>` token) with the image's rows added.
    static var paddedPromptTokens: Int {
        let ids = (try? llava.get().tokenizer?.encode(prompt)) ?? []
        return ids.count - 1 + featureLength
    }

    @Test func imageDataTakesTheImageRowsAndTheCacheTellsImagesApart() async throws {
        try await Self.withServer { server in
            let info = try await Curl.get(ServerFixture.url(server, "/get_model_info"))
            #expect(info.json?["has_image_understanding"]?.boolValue == true)
            #expect(info.json?["model_type"]?.stringValue == "llava")
            let a = try Self.image("image-a.png"), b = try Self.image("image-b.png")
            let first = try await Self.generate(server, image: str(Data(a).base64EncodedString()))
            #expect(first.status == 200, "\(first.text)")
            let meta = first.json?["meta_info"]
            #expect(meta?["prompt_tokens"]?.intValue == Self.paddedPromptTokens)
            // Same text, another image (as a data URI): the cached prefix stops before the image's rows.
            let second = try await Self.generate(
                server, image: str("data:image/png;base64," + Data(b).base64EncodedString()))
            #expect(second.status == 200, "\(second.text)")
            let cachedB = second.json?["meta_info"]?["cached_tokens"]?.intValue ?? -1
            #expect(cachedB >= 0 && cachedB <= Self.imageOffset, "cached \(cachedB), image at \(Self.imageOffset)")
            // The first image again (a list of one): everything but the last token comes from the cache.
            let third = try await Self.generate(server, image: .array([str(Data(a).base64EncodedString())]))
            #expect(third.status == 200, "\(third.text)")
            #expect(third.json?["meta_info"]?["cached_tokens"]?.intValue == Self.paddedPromptTokens - 1)
            #expect(third.json?["text"] == first.json?["text"])
        }
    }

    @Test func badImagesAre400AndTheServerKeepsServing() async throws {
        try await Self.withServer { server in
            let garbage = try await Self.generate(server, image: str(Data("not an image".utf8).base64EncodedString()))
            #expect(garbage.status == 400, "\(garbage.text)")
            #expect(garbage.text.contains("image"), "\(garbage.text)")
            // Two images for one image token.
            let a = Data(try Self.image("image-a.png")).base64EncodedString()
            let twice = try await Self.generate(server, image: .array([str(a), str(a)]))
            #expect(twice.status == 400 && twice.text.contains("image token"), "\(twice.text)")
            // A URL answering with something that is not an image, and one that cannot be reached.
            let notImage = try await Self.generate(server, image: str(ServerFixture.url(server, "/get_model_info")))
            #expect(notImage.status == 400, "\(notImage.text)")
            let unreachable = try await Self.generate(server, image: str("http://127.0.0.1:9/none.png"))
            #expect(unreachable.status == 400 && unreachable.text.contains("127.0.0.1:9"), "\(unreachable.text)")
            let ok = try await Self.generate(server, image: str(a))
            #expect(ok.status == 200, "\(ok.text)")
        }
    }

    @Test func chatImageURLPartsBecomeTheTemplatesImageToken() async throws {
        try await Self.withServer { server in
            let a = "data:image/png;base64," + Data(try Self.image("image-a.png")).base64EncodedString()
            let body = obj(
                ("messages", .array([obj(("role", str("user")), ("content", .array([
                    obj(("type", str("image_url")), ("image_url", obj(("url", str(a))))),
                    obj(("type", str("text")), ("text", str("What is in the picture?"))),
                ])))])),
                ("max_tokens", num(4)), ("temperature", .int(0)))
            let chat = try await Curl.post(ServerFixture.url(server, "/v1/chat/completions"), json: body)
            #expect(chat.status == 200, "\(chat.text)")
            // The template renders exactly the /generate prompt above, so the same padded length comes back.
            #expect(chat.json?["usage"]?["prompt_tokens"]?.intValue == Self.paddedPromptTokens)
            let native = try await Self.generate(server, image: str(a))
            #expect(chat.json?["choices"]?.arrayValue?.first?["message"]?["content"] == native.json?["text"])
        }
    }

    @Test func textModelsRejectImagesClearly() async throws {
        try await ServerFixture.withServer { server in
            let a = Data(try Self.image("image-a.png")).base64EncodedString()
            let r = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                ("text", str("Describe <image>")), ("image_data", str(a)),
                ("sampling_params", obj(("max_new_tokens", num(2)))),
            ))
            #expect(r.status == 400 && r.text.contains("does not accept images"), "\(r.text)")
            let ok = try await Curl.post(ServerFixture.url(server, "/generate"), json: obj(
                ("text", str("Hello")), ("sampling_params", obj(("max_new_tokens", num(2))))))
            #expect(ok.status == 200)
        }
    }
}
