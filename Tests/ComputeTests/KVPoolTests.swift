import Compute
import Testing

@Suite("KV pools and ForwardBatch metadata")
struct KVPoolTests {
    @Test("TokenToKVPool: slot 0 reserved, alloc/free bookkeeping, exhaustion is an error")
    func tokenPool() throws {
        let pool = TokenToKVPool(size: 8, layerCount: 2, kvHeads: 2, headDim: 4)
        #expect(pool.available == 7)
        let a = try pool.alloc(3)
        #expect(a == [1, 2, 3])
        let b = try pool.alloc(4)
        #expect(Set(a + b).count == 7 && !(a + b).contains(0))
        #expect(pool.available == 0)
        #expect(throws: ComputeError.outOfKVSlots(requested: 1, available: 0)) { try pool.alloc(1) }
        pool.free(a)
        pool.free([0, 99])  // ignored
        #expect(pool.available == 3)
        #expect(Set(try pool.alloc(3)) == Set(a))
        #expect(pool.keys.count == 2 && pool.keys[0].count == 8 * 2 * 4)

        let budget = TokenToKVPool(byteBudget: 2 * 2 * 2 * 4 * 4 * 100, layerCount: 2, kvHeads: 2, headDim: 4)
        #expect(budget.size == 100)
    }

    @Test("ReqToTokenPool: rows, record(batch), bounds")
    func reqPool() throws {
        let pool = ReqToTokenPool(maxRequests: 2, maxContext: 8)
        let r0 = try pool.alloc(), r1 = try pool.alloc()
        #expect(Set([r0, r1]) == [0, 1])
        #expect(throws: ComputeError.outOfRequestSlots(capacity: 2)) { try pool.alloc() }
        let batch = ForwardBatch(requests: [Int32(r1), Int32(r0)], prefixLens: [2, 0], newTokens: [[5, 6], [7]],
                                 slots: [10, 11, 12])
        try pool.record(batch)
        #expect(pool.slots(row: r1, length: 4) == [0, 0, 10, 11])
        #expect(pool.slot(row: r0, position: 0) == 12)
        #expect(throws: ComputeError.self) { try pool.write(row: r0, start: 7, slots: [1, 2]) }
        pool.free(r0)
        #expect(pool.available == 1)
    }

    @Test("ForwardBatch derives positions, modes and start offsets; validate catches inconsistencies")
    func forwardBatch() throws {
        let b = ForwardBatch(requests: [0, 1], prefixLens: [3, 0], newTokens: [[1, 2], [3, 4, 5]], slots: [1, 2, 3, 4, 5])
        #expect(b.mode == .extend)
        #expect(b.positions == [3, 4, 0, 1, 2])
        #expect(b.seqLens == [5, 3])
        #expect(b.extendStartLoc == [0, 2])
        try b.validate()
        let d = ForwardBatch(requests: [0, 1], prefixLens: [3, 5], newTokens: [[1], [2]], slots: [6, 7])
        #expect(d.mode == .decode)
        var bad = b
        bad.outCacheLoc.removeLast()
        #expect(throws: ComputeError.self) { try bad.validate() }
        var bad3 = b
        bad3.positions[0] = 9
        #expect(throws: ComputeError.self) { try bad3.validate() }
        var bad2 = d
        bad2.extendLens = [2, 0]
        #expect(throws: ComputeError.self) { try bad2.validate() }
    }
}
