import Foundation
import Runtime
import SGLang
import Server
import Testing

/// `encode` on the frontend's backends: an embedding server through `RuntimeEndpoint` gives the in-process
/// `EngineBackend`'s vectors; generation backends refuse with the server's or the engine's reason.
@Suite(.serialized) struct EmbeddingBackendTests {
    static let texts = ["The capital of France is Paris.", "Swift is a programming language.", "Hello"]

    @Test func endpointAndEngineGiveTheSameEmbeddings() async throws {
        let model = try ModelLoader.load(path: SGLangFixtures.smolLM2Path, isEmbedding: true)
        let local = EngineBackend(engine: try Engine(model: model, options: EngineOptions(maxTotalTokens: 2048)),
                                  modelPath: SGLangFixtures.smolLM2Path)
        let want = try await local.encode(Self.texts)
        #expect(want.count == 3 && want.allSatisfy { $0.count == model.config.hiddenSize })
        for v in want { #expect(abs(v.map { Double($0) * Double($0) }.reduce(0, +).squareRoot() - 1) < 1e-5) }
        let one = try await local.encode(Self.texts[2])
        #expect(zip(one, want[2]).map { abs($0 - $1) }.max() ?? 1 < 1e-4)

        var args = ServerArguments(modelPath: SGLangFixtures.smolLM2Path)
        args.port = 0
        args.maxTotalTokens = 2048
        args.logLevel = "warning"
        let server = try SGLangServer(arguments: args, model: model)
        _ = try await server.start()
        do {
            let endpoint = try await RuntimeEndpoint(url: "http://127.0.0.1:\(server.port ?? 0)")
            let got = try await endpoint.encode(Self.texts)
            #expect(got.count == 3)
            for (a, b) in zip(got, want) { #expect(zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-4) }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func generationBackendsRefuseToEncode() async throws {
        let local = try SGLangFixtures.backend()
        await #expect(throws: SGLangError.self) { _ = try await local.encode("Hello") }
        try await SGLangFixtures.withServer { _, endpoint in
            await #expect(throws: SGLangError.self) { _ = try await endpoint.encode("Hello") }
        }
    }
}
