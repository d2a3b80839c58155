import Compute
import Foundation
import JSON
import Models
import Testing

/// One tiny LLaVA fixture (scripts/make-tiny-llava.py) with its transformers reference.
private struct TinyLlava {
    let folder: String
    let model: LlavaModel
    let inputIds: [Int32]
    let imageOffset: Int
    let pixelValues: [[Float]]
    let imageFeatures: [[Float]]
    let logitRows: [Int]
    let logits: [[Float]]
    let greedy: [Int]

    init(_ name: String, weights: ((any WeightSource) -> any WeightSource)? = nil) throws {
        folder = try Fixtures.resource(name)
        let config = try LlavaConfig.load(from: folder)
        let source: any WeightSource = try SafetensorsModel(folder: folder)
        model = try LlavaModel(config: config, weights: weights.map { $0(source) } ?? source)
        let ref = try Fixtures.json(folder + "/reference.json")
        func floats(_ key: String) -> [Float] { (ref[key]?.arrayValue ?? []).map { Float($0.doubleValue ?? .nan) } }
        inputIds = (ref["input_ids"]?.arrayValue ?? []).map { Int32($0.intValue ?? -1) }
        imageOffset = ref["image_offset"]?.intValue ?? -1
        pixelValues = [floats("pixel_values"), floats("pixel_values_b")]
        imageFeatures = [floats("image_features"), floats("image_features_b")]
        logitRows = (ref["logit_rows"]?.arrayValue ?? []).map { $0.intValue ?? -1 }
        logits = (ref["logits"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).map { Float($0.doubleValue ?? .nan) } }
        greedy = (ref["greedy_ids"]?.arrayValue ?? []).map { $0.intValue ?? -1 }
        #expect(ref["image_feature_length"]?.intValue == config.imageFeatureLength)
        #expect(ref["image_token_index"]?.intValue == config.imageTokenIndex)
    }

    var hidden: Int { model.config.text.hiddenSize }
    var featureLength: Int { model.config.imageFeatureLength }

    /// Overrides for tokens `range` of the prompt (flat indices relative to `range.lowerBound`... of the batch
    /// that starts at prompt position `batchStart`), taking the image rows that fall inside.
    func overrides(features: [Float], batchStart: Int, batchCount: Int) -> EmbeddingOverrides {
        var o = EmbeddingOverrides(width: hidden)
        for p in batchStart..<(batchStart + batchCount) where p >= imageOffset && p < imageOffset + featureLength {
            let r = p - imageOffset
            o.append(tokenIndex: p - batchStart, row: features[(r * hidden)..<((r + 1) * hidden)])
        }
        return o
    }
}

private func maxDiff<C: Collection>(_ a: C, _ b: [Float]) -> Float where C.Element == Float {
    guard a.count == b.count, !b.isEmpty else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// Renames a hub-layout checkpoint to transformers 5's in-memory names (`model.language_model.*`, `lm_head.*`,
/// `model.vision_tower.*`, `model.multi_modal_projector.*`), to check both layouts load alike.
private struct Transformers5Names: WeightSource {
    let base: any WeightSource
    let map: [String: String]
    let names: [String]

    init(_ base: any WeightSource) {
        self.base = base
        var map: [String: String] = [:]
        for name in base.names {
            let renamed: String
            if name.hasPrefix("language_model.model.") {
                renamed = "model.language_model." + name.dropFirst("language_model.model.".count)
            } else if name == "language_model.lm_head.weight" {
                renamed = "lm_head.weight"
            } else {
                renamed = "model." + name
            }
            map[renamed] = name
        }
        self.map = map
        names = map.keys.sorted()
    }

    func info(named name: String) throws -> TensorInfo {
        guard let stored = map[name] else { throw ModelError.missingTensor(name) }
        return try base.info(named: stored)
    }

    func tensor(named name: String) throws -> TensorData {
        guard let stored = map[name] else { throw ModelError.missingTensor(name) }
        return try base.tensor(named: stored)
    }
}

@Suite("LLaVA vs transformers")
struct LlavaTests {
    static let fixtures = ["tiny-llava", "tiny-llava-siglip"]

    @Test("config: text model through the registry, tower, feature length", arguments: fixtures)
    func config(name: String) throws {
        let config = try LlavaConfig.load(from: try Fixtures.resource(name))
        #expect(config.imageTokenIndex == 259)
        #expect(config.vision.numPatches == 16)
        #expect(config.imageFeatureLength == 16)
        if name == "tiny-llava" {
            #expect(config.vision.kind == .clip && config.text.family == .llama)
            #expect(config.visionFeatureLayers == [-2] && config.resolvedFeatureLayers == [1])
            #expect(config.selectStrategy == .default && config.vision.activation == .quickGelu)
        } else {
            #expect(config.vision.kind == .siglip && config.text.family == .qwen2)
            #expect(config.resolvedFeatureLayers == [2, 3] && config.projectorInputSize == 64)
            #expect(config.selectStrategy == .full && config.vision.activation == .geluTanh)
        }
    }

    @Test("image features (vision tower + projector) within 1e-4", arguments: fixtures)
    func imageFeatures(name: String) throws {
        let m = try TinyLlava(name)
        for i in 0..<2 {
            let features = try m.model.imageFeatures(pixelValues: m.pixelValues[i])
            #expect(features.count == m.featureLength * m.hidden)
            let d = maxDiff(features, m.imageFeatures[i])
            #expect(d < 1e-4, "\(name) image \(i): max |Δ| \(d)")
        }
    }

    @Test("prefill logits with the image rows spliced in, within 1e-3", arguments: fixtures)
    func prefillLogits(name: String) throws {
        let m = try TinyLlava(name)
        let features = try m.model.imageFeatures(pixelValues: m.pixelValues[0])
        let lm = m.model.languageModel
        let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 128)
        let kvPool = lm.makeKVPool(size: 256)
        var batch = ForwardBatch(requests: [0], prefixLens: [0], newTokens: [m.inputIds],
                                 slots: try kvPool.alloc(m.inputIds.count))
        batch.embeddingOverrides = m.overrides(features: features, batchStart: 0, batchCount: m.inputIds.count)
        #expect(batch.embeddingOverrides?.tokenIndices.count == m.featureLength)
        let logits = try lm.forward(batch, reqToToken: reqPool, kvPool: kvPool, logits: .rows(m.logitRows))
        for (i, row) in m.logitRows.enumerated() {
            let d = maxDiff(logits.row(i), m.logits[i])
            #expect(d < 1e-3, "\(name) row \(row): max |Δ| \(d)")
        }
    }

    @Test("8 greedy ids equal transformers' generate", arguments: fixtures)
    func greedy(name: String) throws {
        let m = try TinyLlava(name)
        let features = try m.model.imageFeatures(pixelValues: m.pixelValues[0])
        let lm = m.model.languageModel
        let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 128)
        let kvPool = lm.makeKVPool(size: 256)
        var batch = ForwardBatch(requests: [0], prefixLens: [0], newTokens: [m.inputIds],
                                 slots: try kvPool.alloc(m.inputIds.count))
        batch.embeddingOverrides = m.overrides(features: features, batchStart: 0, batchCount: m.inputIds.count)
        var logits = try lm.forward(batch, reqToToken: reqPool, kvPool: kvPool)
        var ids: [Int] = []
        var length = m.inputIds.count
        for _ in 0..<8 {
            let next = logits.argmax(0)
            ids.append(next)
            let step = ForwardBatch(requests: [0], prefixLens: [length], newTokens: [[Int32(next)]],
                                    slots: try kvPool.alloc(1))
            logits = try lm.forward(step, reqToToken: reqPool, kvPool: kvPool)
            length += 1
        }
        #expect(ids == m.greedy)
    }

    @Test("an extend whose cached prefix ends inside the image matches the one-shot prefill")
    func extendSplitsImage() throws {
        let m = try TinyLlava("tiny-llava")
        let features = try m.model.imageFeatures(pixelValues: m.pixelValues[0])
        let lm = m.model.languageModel
        let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 128)
        let kvPool = lm.makeKVPool(size: 256)
        let split = m.imageOffset + m.featureLength / 2
        let head = Array(m.inputIds[..<split]), tail = Array(m.inputIds[split...])
        var first = ForwardBatch(requests: [0], prefixLens: [0], newTokens: [head], slots: try kvPool.alloc(head.count))
        first.embeddingOverrides = m.overrides(features: features, batchStart: 0, batchCount: head.count)
        _ = try lm.forward(first, reqToToken: reqPool, kvPool: kvPool)
        var second = ForwardBatch(requests: [0], prefixLens: [split], newTokens: [tail], slots: try kvPool.alloc(tail.count))
        second.embeddingOverrides = m.overrides(features: features, batchStart: split, batchCount: tail.count)
        #expect(second.embeddingOverrides?.tokenIndices.first == 0)
        let logits = try lm.forward(second, reqToToken: reqPool, kvPool: kvPool)
        let last = m.logitRows.count - 1
        #expect(m.logitRows[last] == m.inputIds.count - 1)
        let d = maxDiff(logits.row(0), m.logits[last])
        #expect(d < 1e-3, "max |Δ| \(d)")
    }

    @Test("transformers 5 weight names load the same model")
    func transformers5Layout() throws {
        let m = try TinyLlava("tiny-llava", weights: { Transformers5Names($0) })
        let d = maxDiff(try m.model.imageFeatures(pixelValues: m.pixelValues[0]), m.imageFeatures[0])
        #expect(d < 1e-4)
    }

    @Test("bad input is a thrown error naming the problem")
    func badInput() throws {
        let m = try TinyLlava("tiny-llava")
        #expect(throws: ModelError.self) { try m.model.imageFeatures(pixelValues: [0, 1, 2]) }
        let lm = m.model.languageModel
        let reqPool = ReqToTokenPool(maxRequests: 2, maxContext: 128)
        let kvPool = lm.makeKVPool(size: 64)
        var batch = ForwardBatch(requests: [0], prefixLens: [0], newTokens: [[1, 2]], slots: try kvPool.alloc(2))
        batch.embeddingOverrides = EmbeddingOverrides(tokenIndices: [5], width: m.hidden,
                                                      values: [Float](repeating: 0, count: m.hidden))
        #expect(throws: ComputeError.self) { try lm.forward(batch, reqToToken: reqPool, kvPool: kvPool) }
        var json = try Fixtures.json(try Fixtures.resource("tiny-llava/config.json"))
        if case .object(var o) = json {
            o["vision_feature_select_strategy"] = .string("pooled")
            json = .object(o)
        }
        #expect(throws: ModelError.self) { try LlavaConfig(json: json) }
    }
}
