import Foundation
import Synchronization
import Testing

@testable import Compute

@Suite("Worker pool")
struct WorkerPoolTests {
    /// Runs `regions` regions of varying sizes on `pool`; every index of every region must run exactly once.
    private static func checkExactlyOnce(_ pool: WorkerPool, regions: Int, seed: Int) -> Bool {
        let maxCount = 97
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: maxCount)
        defer { counts.deallocate() }
        var ok = true
        for r in 0..<regions {
            let n = 1 + (r * 31 + seed * 17) % maxCount
            counts.initialize(repeating: 0)
            // Each index writes only its own slot, so a duplicate run shows up as a count of 2. The
            // arithmetic makes iterations long enough (about a microsecond) for workers to take some.
            pool.run(n) { i in
                var s: Float = 0
                for k in 0..<(64 + i % 7 * 32) { s += sinf(Float(k + i)) }
                counts[i] += s.isNaN ? 2 : 1
            }
            if counts[0..<n].contains(where: { $0 != 1 }) { ok = false }
        }
        return ok
    }

    @Test("every index runs exactly once across many regions (spinning and parking workers)",
          arguments: [UInt64(0), 50_000, 5_000_000])
    func exactlyOnce(spinNanoseconds: UInt64) {
        let pool = WorkerPool(workers: 3, spinNanoseconds: spinNanoseconds)
        defer { pool.shutdown() }
        #expect(Self.checkExactlyOnce(pool, regions: 2000, seed: 1))
    }

    @Test("results equal a serial computation")
    func matchesSerial() {
        let pool = WorkerPool(workers: 2, spinNanoseconds: 20_000)
        defer { pool.shutdown() }
        let n = 10_000, chunk = 37
        let x = (0..<n).map { Float(($0 * 7919) % 1000) / 997 - 0.5 }
        let chunks = (n + chunk - 1) / chunk
        // Per chunk: Σ sin(x)·x in chunk order, the same float operations in both runs.
        func chunkSum(_ c: Int) -> Float {
            var s: Float = 0
            for i in (c * chunk)..<min(n, (c + 1) * chunk) { s += sinf(x[i]) * x[i] }
            return s
        }
        let serial = (0..<chunks).map(chunkSum)
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunks)
        defer { out.deallocate() }
        for _ in 0..<50 {
            out.initialize(repeating: .nan)
            pool.run(chunks) { c in out[c] = chunkSum(c) }
            #expect(Array(out) == serial)
        }
    }

    @Test("a caller never waits for a worker that took no work", .timeLimit(.minutes(1)))
    func unscheduledWorkers() {
        // The workers never start (as if never scheduled): the caller must run every iteration itself.
        let pool = WorkerPool(workers: 2, spinNanoseconds: 0, startThreads: false)
        #expect(Self.checkExactlyOnce(pool, regions: 200, seed: 2))
    }

    @Test("a body that calls run again runs the inner region inline", .timeLimit(.minutes(1)))
    func nested() {
        let pool = WorkerPool(workers: 2, spinNanoseconds: 20_000)
        defer { pool.shutdown() }
        let outer = 16, inner = 24
        let cells = UnsafeMutableBufferPointer<Int>.allocate(capacity: outer * inner)
        defer { cells.deallocate() }
        for _ in 0..<100 {
            cells.initialize(repeating: 0)
            pool.run(outer) { o in
                pool.run(inner) { i in cells[o * inner + i] += o * inner + i + 1 }
            }
            #expect(cells.enumerated().allSatisfy { $0.element == $0.offset + 1 })
        }
    }

    @Test("callers on several threads at once each get every index exactly once", .timeLimit(.minutes(1)))
    func concurrentCallers() async {
        let pool = WorkerPool(workers: 2, spinNanoseconds: 20_000)
        defer { pool.shutdown() }
        let callers = 4
        // Plain threads, so the blocking callers stay off the cooperative pool.
        let results: [Bool] = await withCheckedContinuation { continuation in
            let state = Mutex<[Bool]>([])
            for c in 0..<callers {
                Thread {
                    let ok = Self.checkExactlyOnce(pool, regions: 500, seed: c + 3)
                    let all: [Bool]? = state.withLock { list in
                        list.append(ok)
                        return list.count == callers ? list : nil
                    }
                    if let all { continuation.resume(returning: all) }
                }.start()
            }
        }
        #expect(results == Array(repeating: true, count: callers))
    }

    @Test("Parallel.forEachChunk through the shared pool matches a serial sum")
    func forEachChunkMatchesSerial() {
        let n = 4099
        let x = (0..<n).map { Float($0 % 113) * 0.25 }
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { out.deallocate() }
        out.initialize(repeating: 0)
        Parallel.forEachChunk(n, minPerChunk: 16, alignment: 16) { range in
            for i in range { out[i] = x[i] * x[i] + 1 }
        }
        #expect(Array(out) == x.map { $0 * $0 + 1 })
    }
}
