import Foundation

/// Splits index ranges over the machine's cores with `DispatchQueue.concurrentPerform`.
enum Parallel {
    /// Worker threads to use (the active processor count, at least 1).
    static let threadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` on disjoint chunks that cover `0..<count`. Work smaller than `minPerChunk`
    /// items per thread runs inline, since dispatching costs more than it saves.
    /// Chunk boundaries fall on multiples of `alignment` (quantized kernels work in row tiles).
    static func forEachChunk(_ count: Int, minPerChunk: Int = 1, alignment: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let align = max(1, alignment)
        let units = (count + align - 1) / align
        let chunks = min(threadCount, units, max(1, count / max(1, minPerChunk)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        // The chunks write disjoint ranges, so sharing the non-Sendable body across threads is safe.
        withoutActuallyEscaping(body) { escapable in
            let shared = UncheckedSendableBox(escapable)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = min(count, units * c / chunks * align)
                let hi = min(count, units * (c + 1) / chunks * align)
                if lo < hi { shared.value(lo..<hi) }
            }
        }
    }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees data-race freedom.
struct UncheckedSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
