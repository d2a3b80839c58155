import Foundation
import JSON
import Testing
@testable import Models

/// Malformed safetensors files must fail to open with an error that names the problem (and the tensor).
@Suite struct SafetensorsCorruptionTests {
    /// Builds a file from a header JSON string and a data section.
    static func file(header: String, data: [UInt8], lengthOverride: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = lengthOverride ?? UInt64(h.count)
        return withUnsafeBytes(of: n.littleEndian) { Array($0) } + h + data
    }

    static let goodHeader = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]}}"#
    static let goodData = [UInt8](repeating: 0, count: 22)

    /// Writes bytes to a fresh temporary file and returns its path.
    static func write(_ bytes: [UInt8], name: String = "model.safetensors") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("models-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Expects opening to fail with `invalidSafetensors` for `tensor` and a reason containing `fragment`.
    static func expectInvalid(_ bytes: [UInt8], tensor: String?, _ fragment: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try write(bytes)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("opening must fail (\(fragment))", sourceLocation: sourceLocation)
        } catch let ModelError.invalidSafetensors(p, t, reason) {
            #expect(p == path, sourceLocation: sourceLocation)
            #expect(t == tensor, sourceLocation: sourceLocation)
            #expect(reason.contains(fragment), "\(reason)", sourceLocation: sourceLocation)
            let message = "\(ModelError.invalidSafetensors(path: p, tensor: t, reason: reason))"
            if let tensor { #expect(message.contains("'\(tensor)'"), sourceLocation: sourceLocation) }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func wellFormedBaselineOpens() throws {
        let path = try Self.write(Self.file(header: Self.goodHeader, data: Self.goodData))
        let f = try SafetensorsFile(path: path)
        #expect(f.names == ["a", "b"] && f.fileSize == 8 + Self.goodHeader.utf8.count + 22)
        #expect(try f.floats(named: "a") == [0, 0, 0, 0])
    }

    @Test func truncatedFiles() throws {
        let good = Self.file(header: Self.goodHeader, data: Self.goodData)
        try Self.expectInvalid(Array(good.prefix(5)), tensor: nil, "too short for the 8-byte header length")
        try Self.expectInvalid(Array(good.prefix(40)), tensor: nil, "runs past the end of the")
        // Header intact, data cut: the tensor whose bytes are missing is named.
        try Self.expectInvalid(Array(good.dropLast(3)), tensor: "b", "run past the end of the data section (19 bytes)")
    }

    @Test func badHeaderLength() throws {
        try Self.expectInvalid(Self.file(header: Self.goodHeader, data: Self.goodData, lengthOverride: 1 << 40),
                               tensor: nil, "is not sane")
        try Self.expectInvalid(Self.file(header: Self.goodHeader, data: Self.goodData, lengthOverride: 0),
                               tensor: nil, "is not sane")
        try Self.expectInvalid(Self.file(header: Self.goodHeader, data: Self.goodData,
                                         lengthOverride: UInt64(Self.goodHeader.utf8.count + 100)),
                               tensor: nil, "runs past the end")
    }

    @Test func badJSON() throws {
        try Self.expectInvalid(Self.file(header: #"{"a": {"dtype": "F32",}"#, data: []), tensor: nil, "not valid JSON")
        try Self.expectInvalid(Self.file(header: #"["a"]"#, data: []), tensor: nil, "does not start with '{'")
        try Self.expectInvalid(Self.file(header: #"{"a": 3}"#, data: []), tensor: "a", "not an object")
        try Self.expectInvalid(Self.file(header: #"{"a": {"dtype": "F32", "shape": [1]}}"#, data: [0, 0, 0, 0]),
                               tensor: "a", "data_offsets")
        try Self.expectInvalid(Self.file(header: #"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#,
                                         data: [0, 0, 0, 0]), tensor: "a", "negative dimension")
        try Self.expectInvalid(Self.file(header: #"{"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]}}"#,
                                         data: [0]), tensor: "a", "unknown dtype 'Q4'")
    }

    @Test func offsetsOutOfRangeOrDisordered() throws {
        try Self.expectInvalid(Self.file(header: #"{"w": {"dtype": "F32", "shape": [250], "data_offsets": [0, 1000]}}"#,
                                         data: [UInt8](repeating: 0, count: 16)),
                               tensor: "w", "run past the end of the data section (16 bytes)")
        try Self.expectInvalid(Self.file(header: #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}"#,
                                         data: [UInt8](repeating: 0, count: 16)), tensor: "w", "not ordered")
    }

    @Test func dtypeSizeMismatch() throws {
        try Self.expectInvalid(Self.file(header: #"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}"#,
                                         data: [UInt8](repeating: 0, count: 12)),
                               tensor: "w", "holds 12 bytes, but shape [2, 2] of F32 needs 16")
        try Self.expectInvalid(Self.file(header: #"{"h": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 12]}}"#,
                                         data: [UInt8](repeating: 0, count: 12)),
                               tensor: "h", "needs 6")
    }

    @Test func overlappingTensors() throws {
        try Self.expectInvalid(
            Self.file(header: #"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}"#,
                      data: [UInt8](repeating: 0, count: 24)),
            tensor: "b", "overlap tensor 'a'")
    }

    @Test func missingAndEmptyFiles() throws {
        #expect(throws: ModelError.self) { try SafetensorsFile(path: "/nonexistent/model.safetensors") }
        let empty = try Self.write([])
        #expect(throws: ModelError.invalidSafetensors(path: empty, tensor: nil, reason: "file is empty")) {
            try SafetensorsFile(path: empty)
        }
        let dir = (empty as NSString).deletingLastPathComponent
        #expect(throws: ModelError.noWeights(folder: "/nonexistent")) { try SafetensorsModel(folder: "/nonexistent") }
        #expect(throws: ModelError.fileUnreadable(path: dir, reason: "not a regular file")) {
            try SafetensorsFile(path: dir)
        }
    }

    @Test func inconsistentShardIndexNamesTheTensor() throws {
        let path = try Self.write(Self.file(header: Self.goodHeader, data: Self.goodData), name: "shard-1.safetensors")
        let dir = (path as NSString).deletingLastPathComponent
        let index = #"{"metadata": {}, "weight_map": {"a": "shard-1.safetensors", "ghost": "shard-1.safetensors"}}"#
        try Data(index.utf8).write(to: URL(fileURLWithPath: dir + "/model.safetensors.index.json"))
        do {
            _ = try SafetensorsModel(folder: dir)
            Issue.record("an index naming an absent tensor must fail")
        } catch let ModelError.invalidSafetensors(p, tensor, reason) {
            #expect(p == path && tensor == "ghost" && reason.contains("not present in this shard"))
        }
        let missingShard = #"{"weight_map": {"a": "shard-2.safetensors"}}"#
        try Data(missingShard.utf8).write(to: URL(fileURLWithPath: dir + "/model.safetensors.index.json"))
        #expect(throws: ModelError.fileUnreadable(path: dir + "/shard-2.safetensors", reason: "No such file or directory")) {
            try SafetensorsModel(folder: dir)
        }
    }

    @Test func validationNamesMissingAndMisshapenWeights() throws {
        let config = try ModelConfig.load(from: try Fixtures.shared("tiny/llama"))
        let tiedMHA = try SafetensorsModel(folder: try Fixtures.shared("tiny/llama-tied-mha"))
        // llama has 2 KV heads, llama-tied-mha 4: k_proj shapes differ.
        #expect(throws: ModelError.shapeMismatch(
            tensor: "model.layers.0.self_attn.k_proj.weight", expected: [32, 64], actual: [64, 64])) {
            try config.validateWeights(tiedMHA)
        }
        let qwen3 = try ModelConfig.load(from: try Fixtures.shared("tiny/qwen3"))
        let llamaWeights = try SafetensorsModel(folder: try Fixtures.shared("tiny/llama"))
        #expect(throws: ModelError.shapeMismatch(
            tensor: "model.layers.0.self_attn.q_proj.weight", expected: [128, 64], actual: [64, 64])) {
            try qwen3.validateWeights(llamaWeights)
        }
        let qwen2 = try ModelConfig.load(from: try Fixtures.shared("tiny/qwen2"))
        #expect(throws: ModelError.missingTensor("model.layers.0.self_attn.q_proj.bias")) {
            try qwen2.validateWeights(llamaWeights)
        }
        #expect("\(ModelError.missingTensor("x.weight"))" == "weight 'x.weight' is missing from the checkpoint")
    }
}
