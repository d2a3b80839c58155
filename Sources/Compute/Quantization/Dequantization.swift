import GGUF

/// Reference dequantization of ggml block formats to float32, bit-exact with ggml's
/// `dequantize_row_*` (and the `gguf` Python package): the same float operations in the same order,
/// with no fused multiply-adds.
///
/// Block layouts (little-endian, `d`/`m`/`dmin` are f16 unless noted):
/// - Q4_0 `{d, qs[16]}`: `x = d·(q − 8)`, low nibbles are elements 0-15, high nibbles 16-31.
/// - Q4_1 `{d, m, qs[16]}`: `x = d·q + m`.
/// - Q5_0 `{d, qh: u32, qs[16]}`: the 5th bit of element j is bit j of `qh`; `x = d·(q − 16)`.
/// - Q5_1 `{d, m, qh: u32, qs[16]}`: `x = d·q + m`.
/// - Q8_0 `{d, qs: i8[32]}`: `x = d·q`.
/// - K-quants (256-element super-blocks) are described in `DequantizationKQuants.swift`.
public enum Dequantization {
    /// The types `dequantize` handles.
    public static let supportedTypes: [GGMLType] = [
        .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K,
    ]

    /// Whether `dequantize` handles `type`.
    public static func supports(_ type: GGMLType) -> Bool {
        switch type {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K:
            return true
        default:
            return false
        }
    }

    /// Dequantizes `count` consecutive elements of `type` stored at `source` into `destination`.
    /// - Throws: `QuantizationError.unsupportedType`, or `.misalignedRow` when `count` is not a whole
    ///   number of blocks.
    public static func dequantize(
        _ type: GGMLType, from source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>
    ) throws {
        guard supports(type) else { throw QuantizationError.unsupportedType(type) }
        guard count >= 0, count % type.blockSize == 0 else {
            throw QuantizationError.misalignedRow(type: type, columns: count)
        }
        dequantizeUnchecked(type, from: source, count: count, into: destination)
    }

    /// Dequantizes a buffer holding a whole number of blocks of `type` and returns the values.
    public static func dequantize(_ type: GGMLType, bytes: UnsafeRawBufferPointer) throws -> [Float] {
        guard supports(type) else { throw QuantizationError.unsupportedType(type) }
        guard bytes.count % type.typeSize == 0 else {
            throw QuantizationError.byteCountMismatch(
                type: type, rows: 1, columns: bytes.count / type.typeSize * type.blockSize,
                expected: bytes.count / type.typeSize * type.typeSize, actual: bytes.count)
        }
        let count = bytes.count / type.typeSize * type.blockSize
        guard count > 0, let base = bytes.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let dst = buffer.baseAddress { dequantizeUnchecked(type, from: base, count: count, into: dst) }
            initialized = count
        }
    }

    /// `dequantize` without argument checks: `type` must be supported and `count` a multiple of its block.
    @usableFromInline
    static func dequantizeUnchecked(
        _ type: GGMLType, from src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        let blocks = count / type.blockSize
        let size = type.typeSize
        let n = type.blockSize
        switch type {
        case .f32:
            for i in 0..<count { dst[i] = src.loadUnaligned(fromByteOffset: 4 &* i, as: Float.self) }
        case .f16:
            for i in 0..<count { dst[i] = HalfPrecision.loadHalf(src, 2 &* i) }
        case .bf16:
            for i in 0..<count {
                dst[i] = HalfPrecision.float(fromBFloat16: src.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
            }
        case .q4_0: for b in 0..<blocks { q4_0(src + b &* size, dst + b &* n) }
        case .q4_1: for b in 0..<blocks { q4_1(src + b &* size, dst + b &* n) }
        case .q5_0: for b in 0..<blocks { q5_0(src + b &* size, dst + b &* n) }
        case .q5_1: for b in 0..<blocks { q5_1(src + b &* size, dst + b &* n) }
        case .q8_0: for b in 0..<blocks { q8_0(src + b &* size, dst + b &* n) }
        case .q2_K: for b in 0..<blocks { q2_K(src + b &* size, dst + b &* n) }
        case .q3_K: for b in 0..<blocks { q3_K(src + b &* size, dst + b &* n) }
        case .q4_K: for b in 0..<blocks { q4_K(src + b &* size, dst + b &* n) }
        case .q5_K: for b in 0..<blocks { q5_K(src + b &* size, dst + b &* n) }
        case .q6_K: for b in 0..<blocks { q6_K(src + b &* size, dst + b &* n) }
        case .q8_K: for b in 0..<blocks { q8_K(src + b &* size, dst + b &* n) }
        default: break
        }
    }

    // MARK: - 32-element formats

    @inline(__always)
    static func q4_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.loadHalf(b, 0)
        let qs = b + 2
        for j in 0..<16 {
            let q = qs.load(fromByteOffset: j, as: UInt8.self)
            y[j] = d * Float(Int32(q & 0x0F) - 8)
            y[j + 16] = d * Float(Int32(q >> 4) - 8)
        }
    }

    @inline(__always)
    static func q4_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.loadHalf(b, 0)
        let m = HalfPrecision.loadHalf(b, 2)
        let qs = b + 4
        for j in 0..<16 {
            let q = qs.load(fromByteOffset: j, as: UInt8.self)
            y[j] = d * Float(q & 0x0F) + m
            y[j + 16] = d * Float(q >> 4) + m
        }
    }

    @inline(__always)
    static func q5_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.loadHalf(b, 0)
        let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let qs = b + 6
        for j in 0..<16 {
            let q = qs.load(fromByteOffset: j, as: UInt8.self)
            let h0 = UInt8(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
            let h1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
            y[j] = d * Float(Int32((q & 0x0F) | h0) - 16)
            y[j + 16] = d * Float(Int32((q >> 4) | h1) - 16)
        }
    }

    @inline(__always)
    static func q5_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.loadHalf(b, 0)
        let m = HalfPrecision.loadHalf(b, 2)
        let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let qs = b + 8
        for j in 0..<16 {
            let q = qs.load(fromByteOffset: j, as: UInt8.self)
            let h0 = UInt8(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
            let h1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
            y[j] = d * Float((q & 0x0F) | h0) + m
            y[j + 16] = d * Float((q >> 4) | h1) + m
        }
    }

    @inline(__always)
    static func q8_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.loadHalf(b, 0)
        for j in 0..<32 { y[j] = d * Float(b.load(fromByteOffset: 2 + j, as: Int8.self)) }
    }
}
