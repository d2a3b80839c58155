import Compute
import GGUF
import JSON

/// The weights of a GGUF file under their Hugging Face checkpoint names, so the architectures load GGUF
/// and safetensors models the same way.
///
/// Tensor data stays in the file's memory mapping: quantized tensors are served as packed
/// `QuantizedMatrix` kernels. Three transforms match what transformers' GGUF loader does:
/// - `llama`: llama.cpp stores `attn_q`/`attn_k` rows interleaved for its RoPE layout; rows are put back
///   in Hugging Face order (`reverse_permute`). For block formats a row is a run of whole blocks, so the
///   permutation copies rows of blocks (no dequantization).
/// - `gemma`/`gemma2`: llama.cpp stores RMSNorm weights as `1 + w`; 1 is subtracted again.
/// - Stacked expert tensors (`ffn_*_exps`, `[experts × rows × cols]`) are served per expert as views.
///
/// `rope_freqs.weight` (written by llama.cpp's converter for Llama 3.1-style `rope_type: llama3`, whose
/// parameters the metadata does not carry) is not a weight: it holds one divisor per rotated pair, and is
/// folded into `config.rope` as per-frequency factors (`inv_freq[i] / factor[i]`, as llama.cpp applies it).
public final class GGUFWeightSource: QuantizedWeightSource {
    /// The opened file.
    public let file: GGUFFile
    /// The config derived from the file's metadata.
    public let config: ModelConfig
    /// Every Hugging Face tensor name, sorted.
    public let names: [String]
    private let entries: [String: Entry]

    /// Where a Hugging Face tensor's bytes come from.
    struct Entry: Sendable {
        let tensor: GGUFTensorInfo
        let shape: [Int]
        /// Byte range inside the GGUF tensor (a whole tensor, or one expert's slice).
        let byteOffset: Int
        let byteCount: Int
        let transform: Transform
    }

    enum Transform: Sendable, Equatable {
        case none
        case unpermuteRows(heads: Int)
        case subtractOne
    }

    /// Whether the file is served as an embedding model: when asked (`--is-embedding`), or when llama.cpp's
    /// `{arch}.pooling_type` says last-token pooling (3), SGLang's pooler.
    /// - Throws: `ModelError.invalidField` for an embedding model pooled another way (mean 1, CLS 2, rank 4).
    public func servesEmbeddings(asked: Bool) throws -> Bool {
        let pooling = file.architectureValue("pooling_type")?.intValue ?? 0
        guard asked || pooling == 3 else { return false }
        guard pooling == 0 || pooling == 3 else {
            let name = [1: "mean", 2: "CLS", 4: "rank"][pooling] ?? "type \(pooling)"
            throw ModelError.invalidField(
                "\(file.architecture ?? "").pooling_type", reason: "the model pools by \(name); only last-token pooling is supported")
        }
        return true
    }

    /// Opens the GGUF file at `path`.
    public convenience init(path: String) throws {
        try self.init(file: GGUFFile(path: path))
    }

    /// Maps the tensors of an opened file.
    /// - Throws: `ModelError` for an unsupported architecture, bad metadata, or a tensor that fits no
    ///   Hugging Face name (named in the error).
    public init(file: GGUFFile) throws {
        self.file = file
        var config = try GGUFModelConfig.config(from: file)
        let arch = file.architecture ?? ""
        var entries: [String: Entry] = [:]
        for tensor in file.tensors {
            if tensor.name == "rope_freqs.weight" {
                config.rope = try Self.applyingFrequencyFactors(try file.rawBytes(of: tensor), tensor: tensor,
                                                                to: config.rope)
                continue
            }
            // Per-layer copies of the same table (some converters write them) repeat the global one.
            if tensor.name.hasSuffix(".rope_freqs.weight") { continue }
            let mapped = try GGUFTensorNames.huggingFaceNames(for: tensor, family: config.family)
            for m in mapped {
                var transform = Transform.none
                if arch == "llama" {
                    if m.gguf.hasPrefix("attn_q.") { transform = .unpermuteRows(heads: config.numAttentionHeads) }
                    if m.gguf.hasPrefix("attn_k.") { transform = .unpermuteRows(heads: config.numKeyValueHeads) }
                }
                if (arch == "gemma" || arch == "gemma2"), m.gguf.hasSuffix("norm.weight") { transform = .subtractOne }
                guard entries[m.name] == nil else {
                    throw ModelError.invalidField(tensor.name, reason: "maps to '\(m.name)', which another tensor also maps to")
                }
                entries[m.name] = Entry(
                    tensor: tensor, shape: m.shape, byteOffset: m.byteOffset, byteCount: m.byteCount,
                    transform: transform)
            }
        }
        self.config = config
        self.entries = entries
        names = entries.keys.sorted()
    }

    /// `rope` with llama.cpp's per-pair frequency divisors (an F32 tensor of `rotaryDim / 2` values) applied:
    /// θ_i = pos · base^(−2i/d) / factor_i. That is LongRoPE's formula with one factor list for every length
    /// and no attention scaling, so it is expressed as such; a linear scaling factor multiplies into the
    /// divisors, as llama.cpp's `freq_scale` does.
    /// - Throws: `ModelError` for a tensor of the wrong type or length, non-positive factors, or another
    ///   scaling type (llama.cpp combines those differently).
    static func applyingFrequencyFactors(_ bytes: UnsafeRawBufferPointer, tensor: GGUFTensorInfo, to rope: RopeConfig)
        throws -> RopeConfig
    {
        let pairs = rope.rotaryDim / 2
        guard tensor.type == .f32, tensor.dimensions.reduce(1, *) == pairs, bytes.count == 4 * pairs else {
            throw ModelError.invalidField(
                tensor.name,
                reason: "expected \(pairs) F32 frequency factors (rotary dim \(rope.rotaryDim)), got "
                    + "\(tensor.type.name) \(tensor.dimensions)")
        }
        var factors = (0..<pairs).map { Double(bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self)) }
        guard factors.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ModelError.invalidField(tensor.name, reason: "frequency factors must be finite and positive")
        }
        switch rope.scaling {
        case .none: break
        case .linear(let f): factors = factors.map { $0 * f }
        default:
            throw ModelError.invalidField(
                tensor.name, reason: "per-frequency factors with rope scaling '\(rope.ropeType)' are not supported")
        }
        var out = rope
        out.scaling = .longrope(LongRopeParameters(
            shortFactor: factors, longFactor: factors, factor: nil, attentionFactor: 1,
            originalMaxPositionEmbeddings: rope.maxPositionEmbeddings))
        return out
    }

    public func info(named name: String) throws -> TensorInfo {
        guard let e = entries[name] else { throw ModelError.missingTensor(name) }
        return TensorInfo(name: name, dtype: Self.dtype(of: e.tensor.type), shape: e.shape)
    }

    public func tensor(named name: String) throws -> TensorData {
        guard let e = entries[name] else { throw ModelError.missingTensor(name) }
        let info = TensorInfo(name: name, dtype: Self.dtype(of: e.tensor.type), shape: e.shape)
        let whole = try file.rawBytes(of: e.tensor)
        let bytes = UnsafeRawBufferPointer(rebasing: whole[e.byteOffset..<(e.byteOffset + e.byteCount)])
        switch e.transform {
        case .none:
            return TensorData(info: info, bytes: bytes, owner: file)
        case .unpermuteRows(let heads):
            let owned = try Self.unpermutedRows(bytes, shape: e.shape, heads: heads, name: name)
            return TensorData(info: info, bytes: owned.buffer, owner: owned)
        case .subtractOne:
            let t = TensorData(info: info, bytes: bytes, owner: file)
            let values = try t.floats().map { $0 - 1 }
            let owned = OwnedBytes(values.withUnsafeBytes { [UInt8]($0) })
            return TensorData(info: TensorInfo(name: name, dtype: .f32, shape: e.shape), bytes: owned.buffer, owner: owned)
        }
    }

    /// The packed kernel of a 2-D block-quantized tensor; nil for F32/F16/BF16 tensors (read them as floats).
    public func quantizedMatrix(named name: String) throws -> (any QuantizedMatrixKernel)? {
        try matrix(named: name)
    }

    /// The tensor as a `QuantizedMatrix` (block formats only; nil for plain float tensors).
    public func matrix(named name: String) throws -> QuantizedMatrix? {
        guard let e = entries[name] else { throw ModelError.missingTensor(name) }
        guard e.tensor.type.isQuantized else { return nil }
        return try QuantizedMatrix(tensorData: tensor(named: name))
    }

    /// The tensor's values as float32, dequantizing block formats.
    public func dequantizedFloats(named name: String) throws -> [Float] {
        try tensor(named: name).dequantizedFloats()
    }

    /// The `TensorDType` of a ggml type.
    static func dtype(of type: GGMLType) -> TensorDType {
        switch type {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .f64: return .f64
        case .i8: return .i8
        case .i16: return .i16
        case .i32: return .i32
        case .i64: return .i64
        default: return .block(name: type.name, elementsPerBlock: type.blockSize, bytesPerBlock: type.typeSize)
        }
    }

    /// Rows of a `[rows, …]` tensor reordered from llama.cpp's interleaved RoPE order to Hugging Face's:
    /// HF row `h·2d + k·d + j` is GGUF row `h·2d + 2j + k` (`d = rows / heads / 2`), i.e. transformers'
    /// `w.reshape(heads, d, 2, …).swapaxes(1, 2)`.
    static func unpermutedRows(_ bytes: UnsafeRawBufferPointer, shape: [Int], heads: Int, name: String) throws -> OwnedBytes {
        guard let rows = shape.first, heads > 0, rows % (2 * heads) == 0, bytes.count % max(rows, 1) == 0 else {
            throw ModelError.shapeMismatch(tensor: name, expected: [heads * 2], actual: shape)
        }
        let rowBytes = bytes.count / rows
        let d = rows / heads / 2
        let out = OwnedBytes(count: bytes.count)
        guard let src = bytes.baseAddress, let dst = out.mutableBase else { return out }
        for h in 0..<heads {
            for k in 0..<2 {
                for j in 0..<d {
                    let hfRow = h * 2 * d + k * d + j
                    let ggufRow = h * 2 * d + 2 * j + k
                    (dst + hfRow * rowBytes).copyMemory(from: src + ggufRow * rowBytes, byteCount: rowBytes)
                }
            }
        }
        return out
    }
}

extension QuantizedMatrix {
    /// A packed matrix over a 2-D block-quantized tensor (its bytes stay owned by the tensor's owner).
    /// - Throws: `ModelError.unsupportedDType` for non-block dtypes or unknown block formats,
    ///   `.shapeMismatch` for tensors that are not 2-D.
    public init(tensorData t: TensorData) throws {
        guard case .block(let typeName, _, _) = t.dtype,
              let type = GGMLType.allCases.first(where: { $0.name == typeName }),
              QuantizedMatrix.supportedTypes.contains(type)
        else {
            throw ModelError.unsupportedDType(tensor: t.name, dtype: t.dtype.description)
        }
        guard t.shape.count == 2 else {
            throw ModelError.shapeMismatch(tensor: t.name, expected: [-1, -1], actual: t.shape)
        }
        do {
            try self.init(type: type, rows: t.shape[0], cols: t.shape[1], bytes: t.bytes, owner: TensorDataOwner(t))
        } catch let error as QuantizationError {
            throw ModelError.invalidField(t.name, reason: error.description)
        }
    }
}

extension TensorData {
    /// The values as float32; unlike `floats()`, block-quantized formats are dequantized too
    /// (bit-exact with ggml).
    public func dequantizedFloats() throws -> [Float] {
        guard case .block(let typeName, _, _) = dtype else { return try floats() }
        guard let type = GGMLType.allCases.first(where: { $0.name == typeName }), Dequantization.supports(type) else {
            throw ModelError.unsupportedDType(tensor: name, dtype: typeName)
        }
        return try Dequantization.dequantize(type, bytes: bytes)
    }
}

/// Keeps a `TensorData` (and so its file mapping) alive for a matrix that points into it.
final class TensorDataOwner: Sendable {
    let tensor: TensorData
    init(_ tensor: TensorData) { self.tensor = tensor }
}

/// A heap copy of bytes (permuted or rescaled tensors).
final class OwnedBytes: @unchecked Sendable {
    // @unchecked: written only while being built, read-only once handed out.
    let buffer: UnsafeRawBufferPointer

    var mutableBase: UnsafeMutableRawPointer? { buffer.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) } }

    init(count: Int) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        buffer = UnsafeRawBufferPointer(start: p, count: count)
    }

    convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress, let d = mutableBase { d.copyMemory(from: s, byteCount: bytes.count) }
        }
    }

    deinit {
        buffer.baseAddress.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
    }
}
