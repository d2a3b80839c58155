import Foundation
import JSON
import Testing
@testable import Models

/// The safetensors loader against the tiny fixtures (values from Python's safetensors, tensor_samples.json),
/// generated F16/BF16/F32 files (bit patterns from torch) and deliberately corrupted files.
@Suite struct SafetensorsTests {
    @Test func tinyCheckpointsHoldExactlyTheWeightsTheirConfigsImply() throws {
        for name in Fixtures.tinyNames {
            let folder = try Fixtures.shared("tiny/\(name)")
            let config = try ModelConfig.load(from: folder)
            let weights = try SafetensorsModel(folder: folder)
            let ctx = Comment(rawValue: name)
            let expected = config.expectedWeights()
            #expect(Set(expected.map(\.name)) == Set(weights.names), ctx)
            #expect(expected.count == weights.names.count, ctx)
            for spec in expected {
                let info = try weights.info(named: spec.name)
                #expect(info.shape == spec.shape, Comment(rawValue: "\(name) \(spec.name)"))
                #expect(info.dtype == .f32)
            }
            try config.validateWeights(weights)
            #expect(weights.files.count == 1 && weights.files[0].metadata["format"] == "pt", ctx)
        }
    }

    @Test func tensorValuesMatchPythonSafetensors() throws {
        let samples = try Fixtures.json(try Fixtures.resource("tensor_samples.json"))
        for name in Fixtures.tinyNames {
            let file = try SafetensorsFile(path: try Fixtures.shared("tiny/\(name)/model.safetensors"))
            let model = try #require(samples[name])
            #expect(file.names.count == model["tensor_count"]?.intValue)
            for s in model["samples"]?.arrayValue ?? [] {
                let tensorName = try #require(s["name"]?.stringValue)
                let ctx = Comment(rawValue: "\(name) \(tensorName)")
                let t = try file.tensor(named: tensorName)
                #expect(t.shape == s["shape"]?.arrayValue?.compactMap(\.intValue), ctx)
                let values = try t.floats()
                let first = (s["first"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) }
                #expect(Array(values.prefix(first.count)) == first, ctx)
                #expect(values.last == s["last"]?.doubleValue.map(Float.init), ctx)
                let sum = values.reduce(0.0) { $0 + Double($1) }
                let absSum = values.reduce(0.0) { $0 + abs(Double($1)) }
                let wantSum = try #require(s["sum"]?.doubleValue)
                let wantAbs = try #require(s["abs_sum"]?.doubleValue)
                #expect(abs(sum - wantSum) <= 1e-9 * max(1, wantAbs), ctx)
                #expect(abs(absSum - wantAbs) <= 1e-9 * max(1, wantAbs), ctx)
            }
        }
    }

    @Test func halfBfloatAndDoubleConvertToTheBitsTorchProduces() throws {
        let expected = try Fixtures.json(try Fixtures.resource("dtypes/expected.json"))
        for fileName in ["mixed.safetensors", "unaligned.safetensors"] {
            let file = try SafetensorsFile(path: try Fixtures.resource("dtypes/" + fileName))
            let want = try #require(expected[fileName]?.objectValue)
            #expect(Set(file.names) == Set(want.keys), Comment(rawValue: fileName))
            for (name, spec) in want {
                let ctx = Comment(rawValue: "\(fileName) \(name)")
                let t = try file.tensor(named: name)
                #expect(t.shape == spec["shape"]?.arrayValue?.compactMap(\.intValue), ctx)
                guard let bits = spec["bits"]?.arrayValue?.compactMap(\.intValue) else {
                    // Integer tensors are readable as bytes but not as floats.
                    #expect(t.dtype == .i64 && t.bytes.count == 40, ctx)
                    #expect(throws: ModelError.unsupportedDType(tensor: name, dtype: "I64")) { try t.floats() }
                    continue
                }
                let got = try t.floats()
                #expect(got.count == bits.count, ctx)
                for (g, b) in zip(got, bits) {
                    let want = Float(bitPattern: UInt32(b))
                    // NaN payloads are not meaningful (torch widens half NaN to 0x7fffffff); the rest is exact.
                    #expect(want.isNaN ? g.isNaN : g.bitPattern == want.bitPattern, ctx)
                }
            }
        }
        let mixed = try SafetensorsFile(path: try Fixtures.resource("dtypes/mixed.safetensors"))
        #expect(mixed.metadata["note"] == "ignored")
        #expect(try mixed.info(named: "f32.scalar").shape == [])
        #expect(try mixed.floats(named: "f32.scalar") == [3.5])
        #expect(try mixed.floats(named: "f32.empty").isEmpty)
        #expect(try mixed.info(named: "bf16.cube").dtype == .bf16)
        #expect(throws: ModelError.shapeMismatch(tensor: "f16.matrix", expected: [6, 4], actual: [4, 6])) {
            try mixed.floats(named: "f16.matrix", shape: [6, 4])
        }
        #expect(throws: ModelError.missingTensor("nope")) { try mixed.tensor(named: "nope") }
    }

    @Test func shardedCheckpointOpensThroughItsIndex() throws {
        let folder = try Fixtures.resource("sharded")
        let model = try SafetensorsModel(folder: folder)
        let config = try ModelConfig.load(from: folder)
        #expect(model.files.count == 2)
        #expect(config.eosTokenIds == [2, 3] && config.dtype == "bfloat16" && config.headDim == 4)
        #expect(Set(model.names) == Set(config.expectedWeights().map(\.name)))
        try config.validateWeights(model)
        let expected = try Fixtures.json(try Fixtures.resource("sharded/expected.json"))
        for (name, spec) in expected.objectValue ?? JSONObject() {
            let t = try model.tensor(named: name)
            #expect(t.dtype == .bf16)
            #expect(t.shape == spec["shape"]?.arrayValue?.compactMap(\.intValue))
            #expect(try t.floats().map { Int($0.bitPattern) } == spec["bits"]?.arrayValue?.compactMap(\.intValue))
        }
        #expect(model.file(holding: "model.embed_tokens.weight")?.path.hasSuffix("model-00001-of-00002.safetensors") == true)
        #expect(model.file(holding: "lm_head.weight")?.path.hasSuffix("model-00002-of-00002.safetensors") == true)
    }

    @Test func exhaustiveHalfConversionMatchesSwiftFloat16() {
        // Swift's own Float16 → Float conversion is the independent reference; NaNs only need to stay
        // NaNs of the same sign (payload handling differs between converters, torch included).
        var mismatches: [UInt16] = []
        for bits in 0...UInt16.max {
            let ours = FloatConversion.halfToFloat(bits)
            let reference = Float(Float16(bitPattern: bits))
            let same = reference.isNaN
                ? ours.isNaN && ours.sign == reference.sign
                : ours.bitPattern == reference.bitPattern
            if !same { mismatches.append(bits) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(4))")
        #expect(FloatConversion.bfloat16ToFloat(0x3f80) == 1.0)
    }
}
