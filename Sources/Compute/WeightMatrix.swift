/// A weight matrix of a linear layer, as the compute backend consumes it.
///
/// Layout convention (PyTorch `nn.Linear`): `rows` = output features, `cols` = input features, row-major,
/// so `y[t, r] = Σ_c x[t, c] · W[r, c] (+ bias[r])`.
///
/// Two storages share one API:
/// - `.dense`: fp32 values in a `FloatBuffer` (safetensors checkpoints, GGUF F32/F16/BF16 widened once);
///   the CPU backend multiplies with `cblas_sgemm`.
/// - `.quantized`: any type conforming to `QuantizedMatrixKernel` (GGUF block formats, owned by the
///   quantization code in `Sources/Compute/Quantization/`); the backend calls its `matmul` on disjoint
///   row ranges from several threads, so weights stay packed in memory.
public struct WeightMatrix: Sendable {
    /// Output features.
    public let rows: Int
    /// Input features.
    public let cols: Int
    /// The values.
    public let storage: WeightStorage
    /// Optional per-output bias (`rows` values).
    public let bias: FloatBuffer?

    /// A dense matrix from row-major values (`rows * cols` of them).
    public init(rows: Int, cols: Int, values: [Float], bias: [Float]? = nil) throws {
        guard rows > 0, cols > 0, values.count == rows * cols else {
            throw ComputeError.shapeMismatch("dense weight: \(values.count) values for [\(rows), \(cols)]")
        }
        if let bias, bias.count != rows {
            throw ComputeError.shapeMismatch("bias: \(bias.count) values for \(rows) rows")
        }
        self.rows = rows
        self.cols = cols
        self.storage = .dense(FloatBuffer(values))
        self.bias = bias.map { FloatBuffer($0) }
    }

    /// A dense matrix over an existing buffer of at least `rows * cols` values (shared, not copied; tied
    /// embeddings reuse the embedding buffer this way).
    public init(rows: Int, cols: Int, buffer: FloatBuffer, bias: FloatBuffer? = nil) throws {
        guard rows > 0, cols > 0, buffer.count >= rows * cols else {
            throw ComputeError.shapeMismatch("dense weight: buffer of \(buffer.count) values for [\(rows), \(cols)]")
        }
        if let bias, bias.count != rows {
            throw ComputeError.shapeMismatch("bias: \(bias.count) values for \(rows) rows")
        }
        self.rows = rows
        self.cols = cols
        self.storage = .dense(buffer)
        self.bias = bias
    }

    /// A quantized matrix; its shape comes from the kernel.
    public init(quantized kernel: any QuantizedMatrixKernel, bias: FloatBuffer? = nil) throws {
        if let bias, bias.count != kernel.rows {
            throw ComputeError.shapeMismatch("bias: \(bias.count) values for \(kernel.rows) rows")
        }
        self.rows = kernel.rows
        self.cols = kernel.cols
        self.storage = .quantized(kernel)
        self.bias = bias
    }

    /// Writes row `row` as fp32 into `destination` (`cols` values); used for embedding lookups.
    public func copyRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        switch storage {
        case .dense(let buffer):
            destination.update(from: buffer.pointer + row * cols, count: cols)
        case .quantized(let kernel):
            kernel.dequantizeRow(row, into: destination)
        }
    }
}

/// Where a weight matrix's values live.
public enum WeightStorage: Sendable {
    /// Row-major fp32 values.
    case dense(FloatBuffer)
    /// Packed blocks with their own dot-product kernel.
    case quantized(any QuantizedMatrixKernel)
}

/// A quantized `[rows × cols]` weight matrix that multiplies fp32 activations itself.
///
/// The CPU backend splits the output rows over threads and calls `matmul` concurrently with disjoint
/// `rowRange`s, so implementations must be thread-safe for reads and write only the rows they are given.
public protocol QuantizedMatrixKernel: Sendable {
    /// Output features.
    var rows: Int { get }
    /// Input features.
    var cols: Int { get }
    /// For every token `t < tokens` and row `r` in `rowRange`:
    /// `output[t * outputStride + r] = Σ_c input[t * cols + c] · W[r, c]` (no bias; the backend adds it).
    func matmul(input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>,
                outputStride: Int, rowRange: Range<Int>)
    /// Writes row `row` dequantized to fp32 into `destination` (`cols` values).
    func dequantizeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>)
}

/// Several quantized matrices with the same `cols` stacked by rows, so fused projections (QKV, gate-up)
/// keep each part in its own packed format while the backend sees one matrix.
public struct StackedQuantizedMatrix: QuantizedMatrixKernel {
    /// The stacked parts, top to bottom.
    public let parts: [any QuantizedMatrixKernel]
    private let starts: [Int]
    public let rows: Int
    public let cols: Int

    /// Stacks `parts`; they must agree on `cols`.
    public init(_ parts: [any QuantizedMatrixKernel]) throws {
        guard let first = parts.first else { throw ComputeError.shapeMismatch("no matrices to stack") }
        guard parts.allSatisfy({ $0.cols == first.cols }) else {
            throw ComputeError.shapeMismatch("stacked matrices differ in columns: \(parts.map(\.cols))")
        }
        var starts: [Int] = []
        var r = 0
        for p in parts {
            starts.append(r)
            r += p.rows
        }
        self.parts = parts
        self.starts = starts
        self.rows = r
        self.cols = first.cols
    }

    public func matmul(input: UnsafePointer<Float>, tokens: Int, output: UnsafeMutablePointer<Float>,
                       outputStride: Int, rowRange: Range<Int>) {
        for (i, part) in parts.enumerated() {
            let lo = max(rowRange.lowerBound, starts[i]), hi = min(rowRange.upperBound, starts[i] + part.rows)
            guard lo < hi else { continue }
            part.matmul(input: input, tokens: tokens, output: output + starts[i], outputStride: outputStride,
                        rowRange: (lo - starts[i])..<(hi - starts[i]))
        }
    }

    public func dequantizeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        for (i, part) in parts.enumerated() where row >= starts[i] && row < starts[i] + part.rows {
            part.dequantizeRow(row - starts[i], into: destination)
            return
        }
    }
}
