import Foundation
import JSON
import Models
import Runtime
import Testing

/// The engine on the tiny LLaVA fixture (Tests/ModelsTests/Resources/tiny-llava): images are decoded,
/// preprocessed, padded with hash-derived ids (spec §9.2) and spliced in at prefill; the results are checked
/// against transformers' greedy ids, and the radix cache against the image hashes.
@Suite(.serialized) struct LlavaEngineTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Resources/tiny-llava").path

    static let loaded: Result<LoadedModel, any Error> = Result { try ModelLoader.load(path: folder) }

    static func engine() throws -> Engine {
        try Engine(model: try loaded.get(), options: EngineOptions(contextLength: 512, maxTotalTokens: 2048))
    }

    static func reference() throws -> JSONValue {
        try JSONValue.parse(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))))
    }

    static func image(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
    }

    static func run(_ engine: Engine, _ request: GenerateRequest) async throws -> GenerateOutput {
        var last: GenerateOutput?
        for try await out in engine.generate(request) { last = out }
        guard let last else { throw RuntimeError.invalidInput("no output") }
        return last
    }

    static func request(_ rid: String, image: ImageData, maxNewTokens: Int = 8) throws -> GenerateRequest {
        let prompt = try reference()["prompt"]?.stringValue ?? ""
        var r = GenerateRequest(rid: rid, prompt: .text(prompt),
                                sampling: SamplingParams(maxNewTokens: maxNewTokens, temperature: 0, ignoreEOS: true))
        r.imageData = [image]
        return r
    }

    @Test func loadsAsATextModelWithVision() throws {
        let model = try Self.loaded.get()
        #expect(model.vision?.imageTokenIndex == 259)
        #expect(model.vision?.imageTokenText == "<image>")
        #expect(model.vision?.imageFeatureLength == 16)
        #expect(model.config.family == .llama && model.config.hiddenSize == 64)
    }

    @Test func greedyIdsMatchTransformersAndThePromptIsPadded() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        let ref = try Self.reference()
        let out = try await Self.run(engine, try Self.request("a", image: .bytes(try Self.image("image-a.png"))))
        #expect(out.outputIds == (ref["greedy_ids"]?.arrayValue ?? []).compactMap(\.intValue))
        #expect(out.promptTokens == ref["input_ids"]?.arrayValue?.count)
        // The padded prompt: the image token became 16 pad ids from the image hash, the rest is the text.
        let prepared = try engine.prepare(try Self.request("p", image: .bytes(try Self.image("image-a.png"))))
        let text = (ref["input_ids"]?.arrayValue ?? []).compactMap(\.intValue)
        let offset = ref["image_offset"]?.intValue ?? 0
        #expect(prepared.promptIds.count == text.count)
        #expect(Array(prepared.promptIds[..<offset]) == Array(text[..<offset]))
        #expect(Array(prepared.promptIds[(offset + 16)...]) == Array(text[(offset + 16)...]))
        let pad = Array(prepared.promptIds[offset..<(offset + 16)])
        #expect(pad[0..<4] == pad[4..<8] && pad.allSatisfy { $0 >= 0 && $0 < 260 })
    }

    @Test func theCacheTellsImagesApartAndEncodesEachOnce() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        let ref = try Self.reference()
        let offset = ref["image_offset"]?.intValue ?? 0
        let a = try Self.image("image-a.png"), b = try Self.image("image-b.png")
        let first = try await Self.run(engine, try Self.request("1", image: .bytes(a)))
        #expect(first.cachedTokens == 0)
        // Another image with the same text: the cache match ends where the image starts.
        let other = try await Self.run(engine, try Self.request("2", image: .source(Data(b).base64EncodedString())))
        #expect(other.cachedTokens <= offset, "cached \(other.cachedTokens), image at \(offset)")
        // The image reaches the model: another picture, other tokens.
        #expect(other.outputIds != first.outputIds)
        // The first image again (as a data URI): all but the last prompt token come from the cache, and the vision
        // tower does not run again.
        let before = await engine.stats().imagesEncoded
        let again = try await Self.run(engine, try Self.request(
            "3", image: .source("data:image/png;base64," + Data(a).base64EncodedString())))
        #expect(again.cachedTokens == again.promptTokens - 1)
        #expect(again.outputIds == first.outputIds)
        #expect(await engine.stats().imagesEncoded == before)
        #expect(before == 2)
    }

    @Test func siglipModelFromItsPNGMatchesTransformers() async throws {
        let folder = Self.folder + "-siglip"
        let engine = try Engine(model: try ModelLoader.load(path: folder),
                                options: EngineOptions(contextLength: 512, maxTotalTokens: 2048))
        defer { engine.shutdown() }
        let ref = try JSONValue.parse(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))))
        var request = GenerateRequest(rid: "s", prompt: .text(ref["prompt"]?.stringValue ?? ""),
                                      sampling: SamplingParams(maxNewTokens: 8, temperature: 0, ignoreEOS: true))
        request.imageData = [.source(folder + "/image-a.png")]
        let out = try await Self.run(engine, request)
        #expect(out.outputIds == (ref["greedy_ids"]?.arrayValue ?? []).compactMap(\.intValue))
        #expect(out.promptTokens == ref["input_ids"]?.arrayValue?.count)
    }

    @Test func twoImagesFillTheirTokensInOrder() async throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        let two = try Self.reference()["two_images"]
        let a = try Self.image("image-a.png"), b = try Self.image("image-b.png")
        var request = GenerateRequest(rid: "ab", prompt: .text(two?["prompt"]?.stringValue ?? ""),
                                      sampling: SamplingParams(maxNewTokens: 8, temperature: 0, ignoreEOS: true))
        request.imageData = [.bytes(a), .bytes(b)]
        let out = try await Self.run(engine, request)
        #expect(out.outputIds == (two?["greedy_ids"]?.arrayValue ?? []).compactMap(\.intValue))
        #expect(out.promptTokens == two?["input_ids"]?.arrayValue?.count)
        // Swapped images: other pad ids from the first image on, so the cache match stops there.
        request.rid = "ba"
        request.imageData = [.bytes(b), .bytes(a)]
        let swapped = try await Self.run(engine, request)
        #expect(swapped.cachedTokens <= (try Self.reference()["image_offset"]?.intValue ?? 0))
    }

    @Test func chunkedPrefillSplitsTheImageAndGivesTheSameTokens() async throws {
        let engine = try Engine(model: try Self.loaded.get(),
                                options: EngineOptions(contextLength: 512, maxTotalTokens: 2048, chunkedPrefillSize: 10))
        defer { engine.shutdown() }
        let ref = try Self.reference()
        let out = try await Self.run(engine, try Self.request("c", image: .bytes(try Self.image("image-a.png"))))
        #expect(out.outputIds == (ref["greedy_ids"]?.arrayValue ?? []).compactMap(\.intValue))
    }

    @Test func badImagesAndMismatchesAreClearErrors() throws {
        let engine = try Self.engine()
        defer { engine.shutdown() }
        #expect(throws: RuntimeError.self) { try engine.prepare(try Self.request("x", image: .bytes([1, 2, 3]))) }
        #expect(throws: RuntimeError.self) { try engine.prepare(try Self.request("y", image: .source("@@not base64@@"))) }
        var two = try Self.request("z", image: .bytes(try Self.image("image-a.png")))
        two.imageData.append(.bytes(try Self.image("image-b.png")))
        do {
            _ = try engine.prepare(two)
            Issue.record("two images for one image token were accepted")
        } catch {
            #expect("\(error)".contains("1 image token(s)"), "\(error)")
        }
    }

    @Test func textModelsRejectImages() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/tiny/llama").path
        let engine = try Engine(model: try ModelLoader.load(path: folder),
                                options: EngineOptions(contextLength: 64, maxTotalTokens: 256))
        defer { engine.shutdown() }
        var r = GenerateRequest(rid: "t", prompt: .ids([1, 2, 3]), sampling: SamplingParams(maxNewTokens: 2))
        r.imageData = [.bytes(try Self.image("image-a.png"))]
        do {
            _ = try engine.prepare(r)
            Issue.record("a text model accepted an image")
        } catch {
            #expect("\(error)".contains("does not accept images"), "\(error)")
        }
    }
}
