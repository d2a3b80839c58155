import COpenBLAS
import CQuantKernels
import GGUF

/// A `[rows × cols]` weight matrix kept in its ggml block encoding (e.g. mmapped from a GGUF file):
/// rows are consecutive, each `cols / blockSize` blocks. For a few tokens (decode), multiplication quantizes
/// the fp32 activations to 8 bits per block (one fp32 scale per 32 values, or per 256 for the K-quants, like
/// ggml's Q8_0/Q8_1/Q8_K) and takes integer dot products with the packed blocks (the `CQuantKernels` C
/// target: AVX-512 VNNI, AVX2 or portable C, chosen at run time), as llama.cpp does on the CPU. For many
/// tokens (prefill), and for F16/BF16/Q2_K/Q3_K at any size, rows are widened to fp32 and multiplied with
/// OpenBLAS's SGEMM.
public struct QuantizedMatrix: QuantizedMatrixKernel, @unchecked Sendable {
    // @unchecked: `bytes` is read-only memory kept alive by `owner`.
    /// Output features.
    public let rows: Int
    /// Input features.
    public let cols: Int
    /// The ggml element type of the blocks.
    public let type: GGMLType
    /// Bytes of one row.
    public let rowBytes: Int
    /// All `rows × rowBytes` bytes.
    public let bytes: UnsafeRawBufferPointer
    private let owner: (any AnyObject & Sendable)?

    /// Every type a `QuantizedMatrix` can hold.
    public static let supportedTypes: [GGMLType] = Dequantization.supportedTypes.filter { $0 != .q8_K }

    /// Wraps `bytes` (kept alive by `owner`, e.g. the `GGUFFile` whose mapping they point into).
    /// - Throws: `QuantizationError` when the type is unsupported or the sizes disagree.
    public init(
        type: GGMLType, rows: Int, cols: Int, bytes: UnsafeRawBufferPointer, owner: (any AnyObject & Sendable)?
    ) throws {
        guard Self.supportedTypes.contains(type) else { throw QuantizationError.unsupportedType(type) }
        guard rows > 0, cols > 0 else { throw QuantizationError.invalidShape(rows: rows, columns: cols) }
        guard let rowBytes = type.byteCount(elements: cols) else {
            throw QuantizationError.misalignedRow(type: type, columns: cols)
        }
        let (expected, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
        guard !overflow, bytes.count == expected, bytes.baseAddress != nil else {
            throw QuantizationError.byteCountMismatch(
                type: type, rows: rows, columns: cols, expected: overflow ? Int.max : expected, actual: bytes.count)
        }
        self.type = type
        self.rows = rows
        self.cols = cols
        self.rowBytes = rowBytes
        self.bytes = bytes
        self.owner = owner
    }

    /// A matrix owning a copy of `bytes`.
    public init(type: GGMLType, rows: Int, cols: Int, copying bytes: [UInt8]) throws {
        let storage = MappedBytes(copying: bytes)
        try self.init(type: type, rows: rows, cols: cols, bytes: storage.bytes, owner: storage)
    }

    private var base: UnsafeRawPointer {
        // Non-nil: checked in init.
        bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    }

    /// Row `row` dequantized to fp32 (bit-exact with ggml's reference dequantization).
    public func dequantizeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        guard row >= 0, row < rows else { return }
        Dequantization.dequantizeUnchecked(type, from: base + row * rowBytes, count: cols, into: destination)
    }

    /// The whole matrix as row-major fp32.
    public func dequantized() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buffer, initialized in
            if let dst = buffer.baseAddress {
                Dequantization.dequantizeUnchecked(type, from: base, count: rows * cols, into: dst)
            }
            initialized = rows * cols
        }
    }

    /// `output[t * outputStride + r] = Σ_c input[t * cols + c] · W[r, c]` for `t < tokens`, `r ∈ rowRange`.
    /// Safe to call concurrently with disjoint row ranges.
    public func matmul(
        input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>, outputStride: Int,
        rowRange: Range<Int>
    ) {
        matmul(input: input, tokens: tokens, output: output, outputStride: outputStride, rowRange: rowRange,
               level: .best)
    }

    /// `matmul` with the integer kernels of `level` (tests run every level the CPU supports).
    func matmul(
        input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>, outputStride: Int,
        rowRange: Range<Int>, level: QuantKernelLevel
    ) {
        let range = rowRange.clamped(to: 0..<rows)
        guard tokens > 0, !range.isEmpty else { return }
        if tokens < Self.gemmMinimumTokens, hasIntegerKernel,
           cqk_matmul(level.rawValue, type.rawValue, base, rowBytes, Int32(range.lowerBound), Int32(range.upperBound),
                      Int32(cols), input, Int32(tokens), output, outputStride) == 0
        {
            return
        }
        // Types without an integer kernel (F16, BF16, Q2_K, Q3_K) take the widen-then-SGEMM path at any size.
        runGEMM(input, tokens, output, outputStride, range)
    }

    /// Whether the integer kernels handle `type` (and the sizes fit their 32-bit arguments).
    private var hasIntegerKernel: Bool {
        cqk_supports_type(type.rawValue) != 0 && rows <= Int(Int32.max) && cols <= Int(Int32.max)
    }

    /// Multiplies on all cores: `output` is `[tokens × rows]` (stride `rows`).
    public func matmul(input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>) {
        guard tokens > 0 else { return }
        if tokens * rows * cols < 1 << 16 {
            matmul(input: input, tokens: tokens, output: output, outputStride: rows, rowRange: 0..<rows)
            return
        }
        // Chunks of whole 16-row tiles keep each thread's weights contiguous.
        Parallel.forEachChunk(rows, minPerChunk: Self.rowTile, alignment: Self.rowTile) { range in
            matmul(input: input, tokens: tokens, output: output, outputStride: rows, rowRange: range)
        }
    }

    /// Array convenience: `input` is `[tokens × cols]`, the result `[tokens × rows]`.
    public func matmul(_ input: [Float], tokens: Int) throws -> [Float] {
        guard tokens >= 0, input.count == tokens * cols else {
            throw QuantizationError.byteCountMismatch(
                type: .f32, rows: tokens, columns: cols, expected: tokens * cols, actual: input.count)
        }
        var result = [Float](repeating: 0, count: tokens * rows)
        input.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                if let s = src.baseAddress, let d = dst.baseAddress { matmul(input: s, tokens: tokens, output: d) }
            }
        }
        return result
    }

    /// Thread chunks are whole tiles of this many rows (the C kernels tile rows by 16 for several tokens).
    static let rowTile = 16

    /// From this many tokens on (prefill), a tile of rows is widened to fp32 once and multiplied with
    /// OpenBLAS's SGEMM: widening costs about as much as six integer block dots, and SGEMM's cost per token
    /// and block is a fraction of one, so the tile is reused across enough tokens to pay off.
    static let gemmMinimumTokens = 12

    /// Rows widened at a time in the GEMM path (64 rows × 1536 columns = 384 KiB, within L2).
    static let gemmRowTile = 64

    private func runGEMM(
        _ input: UnsafePointer<Float>, _ tokens: Int, _ output: UnsafeMutablePointer<Float>, _ stride: Int,
        _ range: Range<Int>
    ) {
        let tile = Self.gemmRowTile
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tile * cols)
        defer { scratch.deallocate() }
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + tile, range.upperBound)
            Dequantization.dequantizeUnchecked(
                type, from: base + start * rowBytes, count: (end - start) * cols, into: scratch)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(end - start), Int32(cols), 1,
                input, Int32(cols), scratch, Int32(cols), 0, output + start, Int32(stride))
            start = end
        }
    }
}
