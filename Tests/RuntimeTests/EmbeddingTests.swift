import Foundation
import JSON
import Models
import Runtime
import Testing

/// Embedding models (spec §9.3) on the tiny fixtures: the pooled vector is the last token's final hidden state,
/// checked against transformers through the fixture's logits (logits = lm_head · hidden).
@Suite struct EmbeddingTests {
    struct Fixture {
        let folder: String
        let sequences: [[Int]]
        /// Per sequence, the reference logits of its last position.
        let lastLogits: [[Double]]
        /// lm_head rows (vocab × hidden), fp32.
        let head: [Float]
        let hidden: Int
        let vocab: Int
    }

    static func fixture(_ name: String) throws -> Fixture {
        let folder = try RuntimeFixtures.shared("tiny/\(name)")
        let reference = try JSONValue.parse(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))))
        let sequences = (reference["sequences"]?.arrayValue ?? []).map(RuntimeFixtures.ints)
        let logits = (reference["logits"]?.arrayValue ?? []).map { positions in
            (positions.arrayValue?.last?.arrayValue ?? []).compactMap(\.doubleValue)
        }
        let config = try ModelConfig.load(from: folder)
        let weights = try SafetensorsModel(folder: folder)
        let headName = weights.contains("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight"
        return Fixture(folder: folder, sequences: sequences, lastLogits: logits, head: try weights.floats(named: headName),
                       hidden: config.hiddenSize, vocab: config.vocabSize)
    }

    /// How far `embedding` is from the direction of the reference hidden state: lm_head · embedding, scaled by the
    /// least-squares factor onto the reference logits, against those logits (max abs error / max abs logit). The
    /// factor is the hidden state's norm, so it must be positive.
    static func directionError(_ f: Fixture, embedding: [Float], logits: [Double]) -> (error: Double, scale: Double) {
        var projected = [Double](repeating: 0, count: f.vocab)
        for v in 0..<f.vocab {
            var s = 0.0
            for j in 0..<f.hidden { s += Double(f.head[v * f.hidden + j]) * Double(embedding[j]) }
            projected[v] = s
        }
        let scale = zip(projected, logits).map(*).reduce(0, +) / projected.map { $0 * $0 }.reduce(0, +)
        let worst = zip(projected, logits).map { abs(scale * $0 - $1) }.max() ?? .infinity
        return (worst / (logits.map(abs).max() ?? 1), scale)
    }

    static func norm(_ v: [Float]) -> Double { v.map { Double($0) * Double($0) }.reduce(0, +).squareRoot() }

    /// Every sequence's embedding has unit norm and points where transformers' last hidden state points
    /// (gemma2 is left out: its soft-capped logits are not linear in the hidden state).
    @Test(arguments: ["llama", "qwen3", "mistral", "mixtral"])
    func embeddingIsTheNormalizedLastHiddenState(name: String) async throws {
        let f = try Self.fixture(name)
        let engine = try Engine(model: try ModelLoader.load(path: f.folder, isEmbedding: true),
                                options: EngineOptions(maxTotalTokens: 512))
        #expect(engine.isEmbedding)
        for (i, sequence) in f.sequences.enumerated() {
            let out = try await engine.encode(EmbeddingRequest(rid: "e\(i)", prompt: .ids(sequence)))
            let e = try #require(out.embedding)
            #expect(e.count == f.hidden)
            #expect(abs(Self.norm(e) - 1) < 1e-5)
            let (error, scale) = Self.directionError(f, embedding: e, logits: f.lastLogits[i])
            #expect(error < 1e-4, "\(name) sequence \(i): \(error)")
            #expect(scale > 0)
            #expect(out.promptTokens == sequence.count && out.outputIds.isEmpty)
        }
        #expect(await engine.checkMemory() == nil)
    }

    /// Concurrent requests (batched prefills), a prompt served from the radix cache, and a prompt prefilled in
    /// chunks all give the vectors of one request at a time.
    @Test func batchingCachingAndChunkingGiveTheSameVectors() async throws {
        let f = try Self.fixture("llama")
        let loaded = try ModelLoader.load(path: f.folder, isEmbedding: true)
        let single = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 512, disableRadixCache: true))
        var expected: [[Float]] = []
        for (i, s) in f.sequences.enumerated() {
            expected.append(try #require(try await single.encode(EmbeddingRequest(rid: "s\(i)", prompt: .ids(s))).embedding))
        }
        let engine = try Engine(model: loaded, options: EngineOptions(maxTotalTokens: 512, chunkedPrefillSize: 16))
        let outputs = try await withThrowingTaskGroup(of: (Int, GenerateOutput).self) { group in
            for (i, s) in f.sequences.enumerated() {
                group.addTask { (i, try await engine.encode(EmbeddingRequest(rid: "b\(i)", prompt: .ids(s)))) }
            }
            var all: [Int: GenerateOutput] = [:]
            for try await (i, out) in group { all[i] = out }
            return all
        }
        for (i, want) in expected.enumerated() {
            let got = try #require(outputs[i]?.embedding)
            #expect(zip(got, want).map { abs($0 - $1) }.max() ?? 1 < 1e-5, "sequence \(i)")
        }
        // The 40-token sequence again: its prefix comes from the cache, only the last token is computed.
        let longest = f.sequences.indices.max { f.sequences[$0].count < f.sequences[$1].count } ?? 0
        let again = try await engine.encode(EmbeddingRequest(rid: "again", prompt: .ids(f.sequences[longest])))
        #expect(again.cachedTokens == f.sequences[longest].count - 1)
        let got = try #require(again.embedding)
        #expect(zip(got, expected[longest]).map { abs($0 - $1) }.max() ?? 1 < 1e-5)
        #expect(await engine.checkMemory() == nil)
    }

    /// A bare transformer checkpoint (`LlamaModel`: no `model.` prefix, no lm_head) is an embedding model by its
    /// architecture and gives the vectors of the full checkpoint served with `--is-embedding`.
    @Test func bareCheckpointLoadsAsAnEmbeddingModel() async throws {
        let f = try Self.fixture("llama")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bare-llama-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try SafetensorsModel(folder: f.folder)
        var tensors: [(String, [Int], [Float])] = []
        for name in source.names where name.hasPrefix("model.") {
            tensors.append((String(name.dropFirst(6)), try source.info(named: name).shape, try source.floats(named: name)))
        }
        try Self.writeSafetensors(tensors, to: folder.appendingPathComponent("model.safetensors"))
        try Self.writeConfig(of: f, to: folder, setting: [("architectures", .array([.string("LlamaModel")])),
                                                          ("tie_word_embeddings", .bool(false))])

        let bare = try ModelLoader.load(path: folder.path)
        #expect(bare.isEmbedding)
        let full = try ModelLoader.load(path: f.folder, isEmbedding: true)
        let a = try Engine(model: bare, options: EngineOptions(maxTotalTokens: 256))
        let b = try Engine(model: full, options: EngineOptions(maxTotalTokens: 256))
        for (i, s) in f.sequences.enumerated() {
            let x = try #require(try await a.encode(EmbeddingRequest(rid: "a\(i)", prompt: .ids(s))).embedding)
            let y = try #require(try await b.encode(EmbeddingRequest(rid: "b\(i)", prompt: .ids(s))).embedding)
            #expect(x == y)
        }
    }

    /// `dimensions` follows SGLang: refused unless the config declares Matryoshka support; the cut vector is the
    /// full one's prefix, normalized again.
    @Test func matryoshkaDimensions() async throws {
        let f = try Self.fixture("llama")
        let plain = try Engine(model: try ModelLoader.load(path: f.folder, isEmbedding: true),
                               options: EngineOptions(maxTotalTokens: 256))
        #expect(throws: RuntimeError.self) { try plain.prepare(EmbeddingRequest(rid: "d", prompt: .ids([1, 2]), dimensions: 8)) }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mrl-llama-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["model.safetensors", "generation_config.json"] {
            try FileManager.default.copyItem(atPath: f.folder + "/" + file, toPath: folder.appendingPathComponent(file).path)
        }
        try Self.writeConfig(of: f, to: folder, setting: [("matryoshka_dimensions", .array([.int(8), .int(16)]))])
        let engine = try Engine(model: try ModelLoader.load(path: folder.path, isEmbedding: true),
                                options: EngineOptions(maxTotalTokens: 256))
        let prompt = PromptInput.ids(f.sequences[1])
        let whole = try #require(try await engine.encode(EmbeddingRequest(rid: "w", prompt: prompt)).embedding)
        let cut = try #require(try await engine.encode(EmbeddingRequest(rid: "c", prompt: prompt, dimensions: 16)).embedding)
        #expect(cut.count == 16 && abs(Self.norm(cut) - 1) < 1e-5)
        let prefixNorm = Self.norm(Array(whole.prefix(16)))
        #expect(zip(cut, whole.prefix(16)).map { abs(Double($0) - Double($1) / prefixNorm) }.max() ?? 1 < 1e-6)
        for bad in [0, 12, f.hidden + 1] {
            #expect(throws: RuntimeError.self) { try engine.prepare(EmbeddingRequest(rid: "x", prompt: prompt, dimensions: bad)) }
        }
    }

    /// An embedding engine does not generate, a generation engine does not embed, and bad prompts are refused.
    @Test func requestsOfTheWrongKindAreRefused() async throws {
        let f = try Self.fixture("llama")
        let embedder = try Engine(model: try ModelLoader.load(path: f.folder, isEmbedding: true),
                                  options: EngineOptions(maxTotalTokens: 256))
        let generator = try Engine(model: try ModelLoader.load(path: f.folder), options: EngineOptions(maxTotalTokens: 256))
        #expect(!generator.isEmbedding)
        #expect(throws: RuntimeError.self) { try embedder.prepare(GenerateRequest(rid: "g", prompt: .ids([1, 2]))) }
        #expect(throws: RuntimeError.self) { try generator.prepare(EmbeddingRequest(rid: "e", prompt: .ids([1, 2]))) }
        #expect(throws: RuntimeError.self) { try embedder.prepare(EmbeddingRequest(rid: "e", prompt: .ids([]))) }
        #expect(throws: RuntimeError.self) { try embedder.prepare(EmbeddingRequest(rid: "e", prompt: .ids([f.vocab]))) }
        #expect(throws: RuntimeError.self) {
            try embedder.prepare(EmbeddingRequest(rid: "e", prompt: .ids(Array(repeating: 1, count: 300))))
        }
        #expect(throws: RuntimeError.self) { try embedder.prepare(EmbeddingRequest(rid: "e", prompt: .text("no tokenizer"))) }
        // The engine still serves after the refusals.
        let out = try await embedder.encode(EmbeddingRequest(rid: "ok", prompt: .ids([1, 2, 3])))
        #expect(out.embedding?.count == f.hidden)
    }

    /// The fixture's config.json with some keys set, written into `folder`.
    static func writeConfig(of f: Fixture, to folder: URL, setting changes: [(String, JSONValue)]) throws {
        let json = try JSONValue.parse(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.folder + "/config.json"))))
        var config = json.objectValue ?? JSONObject()
        for (key, value) in changes { config[key] = value }
        try Data(JSONValue.object(config).serialized().utf8).write(to: folder.appendingPathComponent("config.json"))
    }

    /// Writes float32 tensors as a safetensors file (8-byte header length, JSON header, data).
    static func writeSafetensors(_ tensors: [(String, [Int], [Float])], to url: URL) throws {
        var header = JSONObject()
        var data: [UInt8] = []
        for (name, shape, values) in tensors {
            let start = data.count
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            header[name] = .object(JSONObject([
                ("dtype", .string("F32")), ("shape", .array(shape.map(JSONValue.int))),
                ("data_offsets", .array([.int(start), .int(data.count)])),
            ]))
        }
        var json = Array(JSONValue.object(header).serialized(.compact).utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var file: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file += json + data
        try Data(file).write(to: url)
    }
}
