import Foundation
import GGUF
import Testing

@testable import Compute

/// Throughput of the quantized mat-vec / small mat-mat (prints numbers, asserts nothing about time).
/// Run with `SGLANG_BENCH=1 swift test -c release --filter QuantizationBenchmark`.
@Suite("QuantizationBenchmark", .enabled(if: ProcessInfo.processInfo.environment["SGLANG_BENCH"] != nil))
struct QuantizationBenchmarkTests {
    static func measure(_ label: String, bytes: Int, iterations: Int, _ body: () -> Void) -> Double {
        body()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { body() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(iterations)
        let gbs = Double(bytes) / seconds / 1e9
        print("bench \(label): \(String(format: "%.1f", seconds * 1e6)) µs/call, \(String(format: "%.2f", gbs)) GB/s of weights")
        return gbs
    }

    @Test("mat-vec and mat-mat GB/s", arguments: [GGMLType.q4_1, .q4_0, .q8_0, .q4_K, .q6_K])
    func throughput(type: GGMLType) throws {
        var rng = SplitMix(state: 3)
        for (rows, cols, copies) in [(576, 1536, 1), (1536, 576, 1), (576, 1536, 120)] {
            // `copies` distinct matrices (~66 MB for 120) defeat the caches, like a whole model's decode step.
            let ms = try (0..<copies).map { _ in
                try QuantizedMatmulTests.randomMatrix(type, rows: rows, cols: cols, rng: &rng)
            }
            let bytes = ms[0].bytes.count * copies
            for tokens in [1, 4, 32] where copies == 1 || tokens == 1 {
                let x = (0..<tokens * cols).map { _ in Float.random(in: -1...1, using: &rng) }
                var y = [Float](repeating: 0, count: tokens * rows)
                let iterations = max(2, 2000 / copies / tokens)
                let label = "\(type.name) \(rows)x\(cols) tokens=\(tokens)\(copies > 1 ? " ×\(copies) matrices" : "")"
                let gbs = x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        Self.measure(label, bytes: bytes, iterations: iterations) {
                            for m in ms { m.matmul(input: xp.baseAddress!, tokens: tokens, output: yp.baseAddress!) }
                        }
                    }
                }
                #expect(gbs > 0)
                if copies == 1 && tokens == 1 {
                    let m = ms[0]
                    _ = x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            Self.measure(label + " 1 thread", bytes: bytes, iterations: iterations) {
                                m.matmul(input: xp.baseAddress!, tokens: 1, output: yp.baseAddress!, outputStride: m.rows,
                                         rowRange: 0..<m.rows)
                            }
                        }
                    }
                }
            }
        }
    }
}
