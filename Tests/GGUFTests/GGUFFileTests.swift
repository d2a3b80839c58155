import Foundation
import GGUF
import Testing

/// Round trips and malformed inputs through synthetic files written by `GGUFTestWriter`.
@Suite struct GGUFFileTests {
    @Test func roundTripsEveryValueTypeAndTensor() throws {
        let writer = GGUFTestWriter.sample()
        let bytes = writer.bytes()
        let file = try GGUFFile(bytes: bytes)
        #expect(file.version == 3)
        #expect(file.metadataKeys == writer.metadata.map(\.0))
        for (key, value) in writer.metadata {
            #expect(file[key] == value, "metadata \(key)")
        }
        #expect(file.architecture == "llama")
        #expect(file.architectureValue("block_count")?.intValue == 2)
        #expect(file["u64"]?.intValue == 1 << 40)
        #expect(file["f32"]?.doubleValue == Double(Float(1e-5)))
        #expect(file["tokens"]?.stringArray == ["<s>", "a", "\u{2581}b", ""])
        #expect(file["types"]?.intArray == [3, 1, 1, 6])
        #expect(file["scores"]?.arrayValue?.floatValues == [0, -1.5, -2.25, 3])
        #expect(file["nested"]?.arrayValue?.arrayValues?.count == 3)
        #expect(file.alignment == 32)
        #expect(file.dataOffset % 32 == 0)
        #expect(file.fileSize == bytes.count)

        #expect(file.tensors.map(\.name) == ["norm.weight", "embd.weight", "ffn.weight"])
        let embd = try #require(file.tensor(named: "embd.weight"))
        #expect(embd.type == .q8_0)
        #expect(embd.dimensions == [32, 3])
        #expect(embd.shape == [3, 32])
        #expect(embd.elementCount == 96)
        #expect(embd.byteCount == 3 * 34)
        #expect(try Array(file.rawBytes(of: embd)) == writer.tensors[1].data)
        let norm = try file.withRawBytes(of: try #require(file.tensor(named: "norm.weight"))) { raw in
            (0 ..< 8).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
        #expect(norm == (0 ..< 8).map(Float.init))
        #expect(try file.rawBytes(named: "ffn.weight").count == 2 * 144)
        #expect(throws: GGUFError.tensorNotFound("missing")) { try file.rawBytes(named: "missing") }
    }

    @Test func mapsFilesFromDisk() throws {
        let bytes = GGUFTestWriter.sample().bytes()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-test-\(UUID().uuidString).gguf")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let mapped = try GGUFFile(path: url.path)
        let copied = try GGUFFile(bytes: bytes)
        #expect(mapped.metadata == copied.metadata)
        #expect(mapped.tensors == copied.tensors)
        #expect(mapped.path == url.path)
        for tensor in mapped.tensors {
            #expect(try Array(mapped.rawBytes(of: tensor)) == Array(copied.rawBytes(of: tensor)))
        }
    }

    @Test func honoursCustomAlignment() throws {
        var writer = GGUFTestWriter.sample()
        writer.alignment = 64
        writer.metadata.append(("general.alignment", .uint32(64)))
        let file = try GGUFFile(bytes: writer.bytes())
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.tensors.allSatisfy { $0.offset % 64 == 0 })
    }

    @Test func everyTruncationThrows() throws {
        let bytes = GGUFTestWriter.sample().bytes()
        #expect(throws: Never.self) { try GGUFFile(bytes: bytes) }
        for length in 0 ..< bytes.count {
            #expect(throws: GGUFError.self, "prefix of \(length) bytes") {
                try GGUFFile(bytes: Array(bytes[..<length]))
            }
        }
        // A header cut in the middle reports where.
        #expect(throws: GGUFError.truncated(what: "the version", offset: 4, needed: 4, fileSize: 6)) {
            try GGUFFile(bytes: Array(bytes[..<6]))
        }
    }

    @Test func rejectsBadMagicAndVersions() throws {
        var writer = GGUFTestWriter.sample()
        writer.magic = Array("GGML".utf8)
        #expect(throws: GGUFError.badMagic(found: Array("GGML".utf8))) { try GGUFFile(bytes: writer.bytes()) }
        for version: UInt32 in [0, 1, 4, 0x0300_0000] {
            writer = GGUFTestWriter.sample()
            writer.version = version
            #expect(throws: GGUFError.unsupportedVersion(version)) { try GGUFFile(bytes: writer.bytes()) }
        }
        #expect(GGUFError.unsupportedVersion(1).description.contains("version 1"))
        writer = GGUFTestWriter.sample()
        writer.version = 2
        #expect(try GGUFFile(bytes: writer.bytes()).version == 2)
    }

    @Test func rejectsGiantLengthsAndCounts() throws {
        // Header with an absurd tensor count, then metadata count.
        var header = Array("GGUF".utf8)
        GGUFTestWriter.append(UInt32(3), to: &header)
        GGUFTestWriter.append(UInt64(1) << 60, to: &header)
        GGUFTestWriter.append(UInt64(0), to: &header)
        #expect(throws: GGUFError.implausibleCount(what: "the tensor count", count: 1 << 60, offset: 8)) {
            try GGUFFile(bytes: header)
        }
        header = Array("GGUF".utf8)
        GGUFTestWriter.append(UInt32(3), to: &header)
        GGUFTestWriter.append(UInt64(0), to: &header)
        GGUFTestWriter.append(UInt64.max, to: &header)
        #expect(throws: GGUFError.self) { try GGUFFile(bytes: header) }

        // A key whose length is far past the end of the file.
        var bytes = Array(header.dropLast(8))
        GGUFTestWriter.append(UInt64(1), to: &bytes)
        GGUFTestWriter.append(UInt64(1) << 62, to: &bytes)
        bytes += [UInt8](repeating: 65, count: 16)
        #expect(throws: GGUFError.implausibleCount(what: "the length of metadata key 0", count: 1 << 62, offset: 24)) {
            try GGUFFile(bytes: Array(bytes))
        }

        // A string array claiming 2^40 elements.
        var writer = GGUFTestWriter()
        writer.metadata = [("general.architecture", .string("llama"))]
        var giant = writer.bytes()
        giant[16 ..< 24] = [2, 0, 0, 0, 0, 0, 0, 0]  // two metadata entries
        GGUFTestWriter.appendString("tokenizer.ggml.tokens", to: &giant)
        GGUFTestWriter.append(GGUFValueType.array.rawValue, to: &giant)
        GGUFTestWriter.append(GGUFValueType.string.rawValue, to: &giant)
        GGUFTestWriter.append(UInt64(1) << 40, to: &giant)
        GGUFTestWriter.appendString("a", to: &giant)
        #expect(throws: GGUFError.self) { try GGUFFile(bytes: giant) }
        do {
            _ = try GGUFFile(bytes: giant)
        } catch let error as GGUFError {
            guard case .implausibleCount(let what, let count, _) = error else {
                Issue.record("expected implausibleCount, got \(error)")
                return
            }
            #expect(what.contains("tokenizer.ggml.tokens"))
            #expect(count == 1 << 40)
        }
    }

    @Test func rejectsBadTensors() throws {
        func expectInvalid(_ change: (inout GGUFTestWriter) -> Void, _ check: (GGUFError) -> Bool,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            var writer = GGUFTestWriter.sample()
            change(&writer)
            do {
                _ = try GGUFFile(bytes: writer.bytes())
                Issue.record("expected a GGUFError", sourceLocation: sourceLocation)
            } catch let error as GGUFError {
                #expect(check(error), "\(error)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            }
        }
        // Offset past the end of the file.
        expectInvalid({ $0.tensors[2].offset = 1 << 20 }) {
            if case .invalidTensor(let name, let reason) = $0 { return name == "ffn.weight" && reason.contains("past the end") }
            return false
        }
        // Huge offset that would overflow.
        expectInvalid({ $0.tensors[0].offset = UInt64(Int.max) - 31 }) {
            if case .invalidTensor(name: "norm.weight", _) = $0 { return true }
            return false
        }
        // Unknown and removed ggml type ids.
        for id: UInt32 in [4, 5, 31, 99, 1000] {
            expectInvalid({ $0.tensors[1].typeID = id }) { $0 == .unknownTensorType(id: id, tensor: "embd.weight") }
        }
        // Too many dimensions.
        expectInvalid({ $0.tensors[0].dimensions = [1, 1, 1, 1, 8] }) {
            if case .invalidTensor(name: "norm.weight", let reason) = $0 { return reason.contains("dimensions") }
            return false
        }
        // Misaligned offset.
        expectInvalid({ $0.tensors[1].offset = 40 }) {
            if case .invalidTensor(name: "embd.weight", let reason) = $0 { return reason.contains("alignment") }
            return false
        }
        // Row length not a whole number of blocks.
        expectInvalid({ $0.tensors[1].dimensions = [33, 3] }) {
            if case .invalidTensor(name: "embd.weight", let reason) = $0 { return reason.contains("block size") }
            return false
        }
        // Dimensions whose product overflows.
        expectInvalid({ $0.tensors[0].dimensions = [1 << 40, 1 << 40] }) {
            if case .invalidTensor(name: "norm.weight", let reason) = $0 { return reason.contains("overflow") }
            return false
        }
        // Duplicate tensor name.
        expectInvalid({ $0.tensors[1].name = "norm.weight" }) { $0 == .duplicateTensor("norm.weight") }
    }

    @Test func rejectsBadMetadata() throws {
        func error(_ writer: GGUFTestWriter) -> GGUFError? {
            do {
                _ = try GGUFFile(bytes: writer.bytes())
                return nil
            } catch {
                return error as? GGUFError
            }
        }
        var writer = GGUFTestWriter.sample()
        writer.metadata.append(("u8", .uint8(1)))
        #expect(error(writer) == .duplicateKey("u8"))

        for bad: GGUFValue in [.uint32(0), .uint32(48), .uint64(32)] {
            writer = GGUFTestWriter.sample()
            writer.metadata.append(("general.alignment", bad))
            guard case .invalidMetadata(key: "general.alignment", _)? = error(writer) else {
                Issue.record("alignment \(bad) accepted")
                continue
            }
        }

        // Unknown value type id 13 for the first key.
        var bytes = Array("GGUF".utf8)
        GGUFTestWriter.append(UInt32(3), to: &bytes)
        GGUFTestWriter.append(UInt64(0), to: &bytes)
        GGUFTestWriter.append(UInt64(1), to: &bytes)
        GGUFTestWriter.appendString("k", to: &bytes)
        GGUFTestWriter.append(UInt32(13), to: &bytes)
        bytes += [0, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: GGUFError.unknownValueType(id: 13, key: "k", offset: 33)) { try GGUFFile(bytes: bytes) }

        // Invalid UTF-8 in a string value.
        bytes = Array(bytes[..<33])
        GGUFTestWriter.append(GGUFValueType.string.rawValue, to: &bytes)
        GGUFTestWriter.append(UInt64(2), to: &bytes)
        bytes += [0xC3, 0x28]
        #expect(throws: GGUFError.invalidUTF8(what: "the value of 'k'", offset: 37)) { try GGUFFile(bytes: bytes) }

        // Arrays nested deeper than the reader accepts.
        var deep = GGUFArray.uint8([1])
        for _ in 0 ..< 12 { deep = .array([deep]) }
        writer = GGUFTestWriter()
        writer.metadata = [("deep", .array(deep))]
        guard case .nestingTooDeep(key: "deep", _)? = error(writer) else {
            Issue.record("deep nesting accepted")
            return
        }
    }

    @Test func reportsUnopenableFiles() throws {
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(throws: GGUFError.self) { try GGUFFile(path: FileManager.default.temporaryDirectory.path) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-empty-\(UUID().uuidString).gguf")
        try Data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: GGUFError.truncated(what: "the magic number", offset: 0, needed: 4, fileSize: 0)) {
            try GGUFFile(path: url.path)
        }
    }

    @Test func ggmlTypeSizesMatchGGML() {
        // (block size, type size) from ggml's type traits.
        let expected: [GGMLType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22),
            .q5_1: (32, 24), .q8_0: (32, 34), .q8_1: (32, 40), .q2_K: (256, 84), .q3_K: (256, 110),
            .q4_K: (256, 144), .q5_K: (256, 176), .q6_K: (256, 210), .q8_K: (256, 292), .iq2_XXS: (256, 66),
            .iq2_XS: (256, 74), .iq3_XXS: (256, 98), .iq1_S: (256, 50), .iq4_NL: (32, 18), .iq3_S: (256, 110),
            .iq2_S: (256, 82), .iq4_XS: (256, 136), .i8: (1, 1), .i16: (1, 2), .i32: (1, 4), .i64: (1, 8),
            .f64: (1, 8), .iq1_M: (256, 56), .tq1_0: (256, 54), .tq2_0: (256, 66), .mxfp4: (32, 17),
        ]
        for (type, (block, size)) in expected {
            #expect(type.blockSize == block, "\(type) block size")
            #expect(type.typeSize == size, "\(type) type size")
        }
        #expect(GGMLType.q4_K.byteCount(elements: 512) == 288)
        #expect(GGMLType.q4_K.byteCount(elements: 100) == nil)
        #expect(GGMLType(rawValue: 4) == nil)
    }
}
