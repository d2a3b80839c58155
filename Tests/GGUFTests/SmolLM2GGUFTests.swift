import Foundation
import GGUF
import Testing

/// The real SmolLM2-135M-Instruct Q4_1 file (fetched by scripts/fetch-smollm2.sh). Expected values are the
/// model's published configuration and what the `gguf` Python package reads from the same file.
@Suite struct SmolLM2GGUFTests {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// `$SGLANG_SMOLLM2_GGUF` or `models/SmolLM2-135M-Instruct.Q4_1.gguf` in the repository.
    static func path(filePath: String = #filePath) throws -> String {
        if let path = ProcessInfo.processInfo.environment["SGLANG_SMOLLM2_GGUF"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw Missing(description: "SGLANG_SMOLLM2_GGUF points to \(path), which does not exist")
            }
            return path
        }
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "SmolLM2 GGUF not found at \(path): run scripts/fetch-smollm2.sh (or set SGLANG_SMOLLM2_GGUF)")
        }
        return path
    }

    static let file: Result<GGUFFile, any Error> = Result { try GGUFFile(path: try path()) }

    @Test func headerAndModelMetadata() throws {
        let file = try Self.file.get()
        #expect(file.version == 3)
        #expect(file.fileSize == 98_362_432)
        #expect(file.metadata.count == 33)
        #expect(file.alignment == 32)
        #expect(file.dataOffset == 1_785_664)
        #expect(file.architecture == "llama")
        #expect(file.architectureValue("block_count") == .uint32(30))
        #expect(file.architectureValue("embedding_length")?.intValue == 576)
        #expect(file.architectureValue("feed_forward_length")?.intValue == 1536)
        #expect(file.architectureValue("attention.head_count")?.intValue == 9)
        #expect(file.architectureValue("attention.head_count_kv")?.intValue == 3)
        #expect(file.architectureValue("vocab_size")?.intValue == 49152)
        #expect(file.architectureValue("context_length")?.intValue == 8192)
        #expect(file.architectureValue("rope.dimension_count")?.intValue == 64)
        #expect(file.architectureValue("rope.freq_base") == .float32(100_000))
        #expect(file.architectureValue("attention.layer_norm_rms_epsilon") == .float32(1e-5))
        #expect(file["general.file_type"]?.intValue == 3)
        #expect(file["general.languages"]?.stringArray == ["en"])
    }

    @Test func tokenizerMetadata() throws {
        let file = try Self.file.get()
        let tokens = try #require(file["tokenizer.ggml.tokens"]?.stringArray)
        #expect(tokens.count == 49152)
        #expect(tokens[0] == "<|endoftext|>")
        #expect(tokens[1] == "<|im_start|>")
        #expect(tokens[2] == "<|im_end|>")
        #expect(file["tokenizer.ggml.merges"]?.arrayValue?.count == 48900)
        #expect(file["tokenizer.ggml.merges"]?.stringArray?.first == "\u{0120} t")
        let types = try #require(file["tokenizer.ggml.token_type"]?.intArray)
        #expect(types.count == 49152)
        #expect(types.prefix(17).allSatisfy { $0 == 3 })
        #expect(types.dropFirst(17).allSatisfy { $0 == 1 })
        #expect(file["tokenizer.ggml.model"]?.stringValue == "gpt2")
        #expect(file["tokenizer.ggml.pre"]?.stringValue == "smollm")
        #expect(file["tokenizer.ggml.bos_token_id"] == .uint32(1))
        #expect(file["tokenizer.ggml.eos_token_id"] == .uint32(2))
        #expect(file["tokenizer.ggml.add_bos_token"] == .bool(false))
        #expect(file["tokenizer.chat_template"]?.stringValue?.hasPrefix("{% for message in messages %}") == true)
    }

    @Test func tensorDirectory() throws {
        let file = try Self.file.get()
        #expect(file.tensors.count == 272)
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.type == .q8_0)
        #expect(embedding.dimensions == [576, 49152])
        #expect(embedding.fileOffset == 1_785_664)
        #expect(embedding.byteCount == 30_081_024)

        var counts: [GGMLType: Int] = [:]
        for tensor in file.tensors {
            counts[tensor.type, default: 0] += 1
            if tensor.name == "token_embd.weight" { continue }
            if tensor.name.hasSuffix("norm.weight") {
                #expect(tensor.type == .f32, "\(tensor.name)")
                #expect(tensor.dimensions == [576], "\(tensor.name)")
            } else {
                #expect(tensor.type == .q4_1, "\(tensor.name)")
            }
        }
        #expect(counts == [.q8_0: 1, .f32: 61, .q4_1: 210])
        for layer in 0 ..< 30 {
            for part in ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
                         "attn_norm", "ffn_norm"] {
                #expect(file.tensor(named: "blk.\(layer).\(part).weight") != nil, "blk.\(layer).\(part)")
            }
        }
        #expect(file.tensor(named: "blk.0.attn_k.weight")?.dimensions == [576, 192])
        #expect(file.tensor(named: "blk.0.ffn_down.weight")?.dimensions == [1536, 576])
        #expect(file.tensor(named: "output.weight") == nil)  // tied embeddings
    }

    @Test func tensorByteRangesLieInsideTheFileWithoutOverlap() throws {
        let file = try Self.file.get()
        let sorted = file.tensors.sorted { $0.fileOffset < $1.fileOffset }
        var end = file.dataOffset
        for tensor in sorted {
            #expect(tensor.fileOffset >= end, "\(tensor.name) overlaps the previous tensor")
            #expect(tensor.fileOffset == file.dataOffset + tensor.offset)
            #expect(tensor.byteCount == tensor.elementCount / tensor.type.blockSize * tensor.type.typeSize)
            #expect(tensor.fileOffset + tensor.byteCount <= file.fileSize, "\(tensor.name) ends past the file")
            end = tensor.fileOffset + tensor.byteCount
        }
        #expect(end == file.fileSize)
    }

    @Test func rawTensorBytes() throws {
        let file = try Self.file.get()
        let norm = try file.withRawBytes(of: try #require(file.tensor(named: "blk.0.attn_norm.weight"))) { raw in
            (0 ..< 4).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
        #expect(norm == [0.01397705078125, 0.0238037109375, -0.019775390625, -0.0302734375])
        let output = try file.rawBytes(named: "output_norm.weight")
        #expect(output.count == 2304)
        #expect(output.loadUnaligned(fromByteOffset: 0, as: Float.self) == 1.7578125)
        let embedding = try file.rawBytes(named: "token_embd.weight")
        #expect(Array(embedding.prefix(8)) == [0x32, 0x19, 0xD6, 0x0D, 0x13, 0xF7, 0xE5, 0xEE])
    }
}
