import Compute

/// A weight source that can hand out packed (quantized) matrices without expanding them to fp32.
/// GGUF-backed sources conform; safetensors sources do not need to.
public protocol QuantizedWeightSource: WeightSource {
    /// The packed kernel of tensor `name`, or nil when the tensor is stored as plain floats.
    func quantizedMatrix(named name: String) throws -> (any QuantizedMatrixKernel)?
}

/// Reads named tensors into compute-ready weights, checking shapes against the config.
struct WeightLoader {
    let source: any WeightSource

    /// A vector of `count` floats.
    func vector(_ name: String, count: Int) throws -> FloatBuffer {
        let t = try source.tensor(named: name)
        guard t.elementCount == count, t.shape.count <= 2 else {
            throw ModelError.shapeMismatch(tensor: name, expected: [count], actual: t.shape)
        }
        let buffer = FloatBuffer(count: count)
        try t.copyFloats(into: buffer.buffer)
        return buffer
    }

    /// The row-wise concatenation of matrices `names` (each `[rows[i], cols]`), with the concatenated
    /// biases when `biasNames` is given. Quantized parts stay packed when every part is quantized.
    func matrix(_ names: [String], rows: [Int], cols: Int, biasNames: [String]? = nil) throws -> WeightMatrix {
        let totalRows = rows.reduce(0, +)
        var bias: FloatBuffer?
        if let biasNames {
            let b = FloatBuffer(count: totalRows)
            var offset = 0
            for (name, n) in zip(biasNames, rows) {
                let v = try vector(name, count: n)
                (b.pointer + offset).update(from: v.pointer, count: n)
                offset += n
            }
            bias = b
        }
        for (name, n) in zip(names, rows) {
            let info = try source.info(named: name)
            guard info.shape == [n, cols] else {
                throw ModelError.shapeMismatch(tensor: name, expected: [n, cols], actual: info.shape)
            }
        }
        if let q = source as? any QuantizedWeightSource {
            let kernels = try names.map { try q.quantizedMatrix(named: $0) }
            if kernels.allSatisfy({ $0 != nil }) {
                let parts = kernels.compactMap { $0 }
                let kernel: any QuantizedMatrixKernel
                if parts.count == 1 {
                    kernel = parts[0]
                } else if let merged = try Self.mergeSameType(parts) {
                    kernel = merged
                } else {
                    kernel = try StackedQuantizedMatrix(parts)
                }
                return try WeightMatrix(quantized: kernel, bias: bias)
            }
            // Mixed storage: widen the packed parts so the fused matrix is uniform.
            let buffer = FloatBuffer(count: totalRows * cols)
            var offset = 0
            for (i, name) in names.enumerated() {
                let n = rows[i]
                if let k = kernels[i] {
                    for r in 0..<n { k.dequantizeRow(r, into: buffer.pointer + (offset + r) * cols) }
                } else {
                    try source.tensor(named: name).copyFloats(
                        into: UnsafeMutableBufferPointer(start: buffer.pointer + offset * cols, count: n * cols))
                }
                offset += n
            }
            return try WeightMatrix(rows: totalRows, cols: cols, buffer: buffer, bias: bias)
        }
        let buffer = FloatBuffer(count: totalRows * cols)
        var offset = 0
        for (name, n) in zip(names, rows) {
            try source.tensor(named: name).copyFloats(
                into: UnsafeMutableBufferPointer(start: buffer.pointer + offset * cols, count: n * cols))
            offset += n
        }
        return try WeightMatrix(rows: totalRows, cols: cols, buffer: buffer, bias: bias)
    }

    /// Parts of one block type become a single matrix over copied bytes, so a fused projection quantizes
    /// its input activations once per call instead of once per part; nil when the parts differ.
    static func mergeSameType(_ parts: [any QuantizedMatrixKernel]) throws -> QuantizedMatrix? {
        let matrices = parts.compactMap { $0 as? QuantizedMatrix }
        guard matrices.count == parts.count, let first = matrices.first,
              matrices.allSatisfy({ $0.type == first.type && $0.cols == first.cols && $0.rowBytes == first.rowBytes })
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(matrices.reduce(0) { $0 + $1.rows * $1.rowBytes })
        for m in matrices { bytes.append(contentsOf: m.bytes.prefix(m.rows * m.rowBytes)) }
        return try QuantizedMatrix(type: first.type, rows: matrices.reduce(0) { $0 + $1.rows }, cols: first.cols,
                                   copying: bytes)
    }

    /// The fused matrix of `names`.
    func matrix(_ names: StackedWeightNames) throws -> WeightMatrix {
        try matrix(names.parts, rows: names.rows, cols: names.cols, biasNames: names.biases)
    }

    /// A single `[rows, cols]` matrix with an optional bias.
    func matrix(_ name: String, rows: Int, cols: Int, biasName: String? = nil) throws -> WeightMatrix {
        try matrix([name], rows: [rows], cols: cols, biasNames: biasName.map { [$0] })
    }
}
