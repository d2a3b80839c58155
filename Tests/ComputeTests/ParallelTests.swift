import Synchronization
import Testing

@testable import Compute

@Suite("Parallel chunking")
struct ParallelTests {
    @Test("chunks cover 0..<count exactly once and respect the alignment",
          arguments: [(1, 1), (7, 1), (100, 16), (33, 16), (1000, 1), (5, 16)])
    func coverage(count: Int, alignment: Int) {
        let seen = Mutex<[Range<Int>]>([])
        Parallel.forEachChunk(count, minPerChunk: 1, alignment: alignment) { range in
            seen.withLock { $0.append(range) }
        }
        let ranges = seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        var next = 0
        for r in ranges {
            #expect(r.lowerBound == next)
            #expect(r.lowerBound % alignment == 0)
            next = r.upperBound
        }
        #expect(next == count)
    }
}
