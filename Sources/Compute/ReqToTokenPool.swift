/// The `[maxRequests × maxContext]` table from (request slot, position) to KV slot (SGLang's
/// `ReqToTokenPool`), with a free list of request slots.
///
/// Owned by the scheduler thread; not thread-safe for concurrent mutation.
public final class ReqToTokenPool: @unchecked Sendable {
    // @unchecked: mutated only by the owning scheduler thread; kernels only read it during a forward.
    /// Number of request rows.
    public let maxRequests: Int
    /// Positions per row.
    public let maxContext: Int
    /// Row-major table storage.
    public let table: UnsafeMutablePointer<Int32>
    /// A device backend's copy of the table (kept in step by that backend), released with the pool.
    public var deviceMirror: (any AnyObject & Sendable)?
    private var freeRows: [Int]

    /// A table with every entry 0 (the reserved dummy KV slot) and every row free.
    public init(maxRequests: Int, maxContext: Int) {
        self.maxRequests = max(1, maxRequests)
        self.maxContext = max(1, maxContext)
        table = UnsafeMutablePointer<Int32>.allocate(capacity: self.maxRequests * self.maxContext)
        table.initialize(repeating: 0, count: self.maxRequests * self.maxContext)
        freeRows = Array((0..<self.maxRequests).reversed())
    }

    deinit { table.deallocate() }

    /// Free request rows.
    public var available: Int { freeRows.count }

    /// Takes a free row; throws when all are in use.
    public func alloc() throws -> Int {
        guard let row = freeRows.popLast() else { throw ComputeError.outOfRequestSlots(capacity: maxRequests) }
        return row
    }

    /// Returns a row to the free list.
    public func free(_ row: Int) {
        guard row >= 0, row < maxRequests, !freeRows.contains(row) else { return }
        freeRows.append(row)
    }

    /// The KV slot of `position` in request row `row`.
    public func slot(row: Int, position: Int) -> Int32 {
        table[row * maxContext + position]
    }

    /// The KV slots of positions `0..<length` of a row.
    public func slots(row: Int, length: Int) -> [Int32] {
        Array(UnsafeBufferPointer(start: table + row * maxContext, count: length))
    }

    /// Writes `slots` at positions `start..<start + slots.count` of a row.
    public func write(row: Int, start: Int, slots: [Int32]) throws {
        guard row >= 0, row < maxRequests, start >= 0, start + slots.count <= maxContext else {
            throw ComputeError.invalidBatch(
                "positions \(start)..<\(start + slots.count) of request row \(row) exceed the \(maxRequests)×\(maxContext) table")
        }
        slots.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { (table + row * maxContext + start).update(from: base, count: slots.count) }
        }
    }

    /// Records the batch's new tokens (`outCacheLoc`) at their positions, as the scheduler does before a forward.
    public func record(_ batch: ForwardBatch) throws {
        try batch.validate()
        var t = 0
        for i in 0..<batch.batchSize {
            let row = Int(batch.reqPoolIndices[i])
            let n = batch.extendLens[i]
            try write(row: row, start: batch.prefixLens[i], slots: Array(batch.outCacheLoc[t..<(t + n)]))
            t += n
        }
    }
}
