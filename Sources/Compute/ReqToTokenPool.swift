#if canImport(Glibc)
import Glibc
#endif

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
    private let fromCalloc: Bool
    /// Per row, the positions `write` changed since `takeWrittenRanges()` last ran (one merged range a row).
    private var written: [Int: Range<Int>] = [:]

    /// A table with every entry 0 (the reserved dummy KV slot) and every row free.
    public init(maxRequests: Int, maxContext: Int) {
        self.maxRequests = max(1, maxRequests)
        self.maxContext = max(1, maxContext)
        // calloc: a large table is mapped lazily and zero-filled by the OS, so only the pages of positions requests
        // reach cost memory (a default 8B engine's table spans 2047 rows × 131k positions = 1 GiB).
        let count = self.maxRequests * self.maxContext
        if let zeroed = calloc(count, MemoryLayout<Int32>.stride) {
            table = zeroed.bindMemory(to: Int32.self, capacity: count)
            fromCalloc = true
        } else {
            table = UnsafeMutablePointer<Int32>.allocate(capacity: count)
            table.initialize(repeating: 0, count: count)
            fromCalloc = false
        }
        freeRows = Array((0..<self.maxRequests).reversed())
    }

    deinit {
        if fromCalloc { Glibc.free(table) } else { table.deallocate() }
    }

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

    /// Writes `slots` at positions `start..<start + slots.count` of a row — the scheduler's own edits (a cached
    /// prefix on admission, the cache's canonical slots after a prefill), which a device mirror must copy: see
    /// `takeWrittenRanges()`.
    public func write(row: Int, start: Int, slots: [Int32]) throws {
        try store(row: row, start: start, slots: slots)
        guard !slots.isEmpty else { return }
        let range = start..<(start + slots.count)
        written[row] = written[row].map { min($0.lowerBound, start)..<max($0.upperBound, range.upperBound) } ?? range
    }

    /// The rows and positions `write` changed since the last call, which a device backend copies to its mirror
    /// before a forward (the forward's own new slots, `record`, it writes there itself). At most one range a row,
    /// so the list stays bounded when nothing takes it (the CPU backend reads this table directly).
    public func takeWrittenRanges() -> [(row: Int, positions: Range<Int>)] {
        defer { clearWrittenRanges() }
        return writtenRanges
    }

    /// Forgets the written ranges (a device backend has queued their copies).
    public func clearWrittenRanges() { written.removeAll(keepingCapacity: true) }

    /// What `takeWrittenRanges()` would return, left in place (for a forward that may fail before it copies them).
    public var writtenRanges: [(row: Int, positions: Range<Int>)] {
        written.sorted { $0.key < $1.key }.map { (row: $0.key, positions: $0.value) }
    }

    private func store(row: Int, start: Int, slots: [Int32]) throws {
        guard row >= 0, row < maxRequests, start >= 0, start + slots.count <= maxContext else {
            throw ComputeError.invalidBatch(
                "positions \(start)..<\(start + slots.count) of request row \(row) exceed the \(maxRequests)×\(maxContext) table")
        }
        slots.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { (table + row * maxContext + start).update(from: base, count: slots.count) }
        }
    }

    /// Records the batch's new tokens (`outCacheLoc`) at their positions, as a model does before its forward
    /// (not reported by `takeWrittenRanges()`: a device model records them in its mirror itself).
    public func record(_ batch: ForwardBatch) throws {
        try batch.validate()
        var t = 0
        for i in 0..<batch.batchSize {
            let row = Int(batch.reqPoolIndices[i])
            let n = batch.extendLens[i]
            try store(row: row, start: batch.prefixLens[i], slots: Array(batch.outCacheLoc[t..<(t + n)]))
            t += n
        }
    }
}
