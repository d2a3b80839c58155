import Foundation

/// Splits index ranges over the machine's cores with the persistent `WorkerPool`.
enum Parallel {
    /// Worker threads to use (the active processor count, at least 1).
    static let threadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Chunks per thread: more than one lets a thread that started late (a parked or descheduled worker)
    /// take less of the work, and the caller more.
    static let chunksPerThread = 4

    /// Calls `body` on disjoint chunks that cover `0..<count`. Work smaller than `minPerChunk`
    /// items per thread runs inline, since dispatching costs more than it saves.
    /// Chunk boundaries fall on multiples of `alignment` (quantized kernels work in row tiles).
    static func forEachChunk(_ count: Int, minPerChunk: Int = 1, alignment: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let align = max(1, alignment)
        let units = (count + align - 1) / align
        let chunks = min(threadCount * chunksPerThread, units, max(1, count / max(1, minPerChunk)))
        if chunks == 1 || threadCount == 1 {
            body(0..<count)
            return
        }
        // The chunks write disjoint ranges, so sharing the non-Sendable body across threads is safe.
        WorkerPool.shared.run(chunks) { c in
            let lo = min(count, units * c / chunks * align)
            let hi = min(count, units * (c + 1) / chunks * align)
            if lo < hi { body(lo..<hi) }
        }
    }
}
