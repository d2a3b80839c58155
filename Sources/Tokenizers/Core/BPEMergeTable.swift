/// The merge rules of a BPE model keyed by the ids of the two merged tokens: (a << 32 | b) →
/// (rank << 32 | merged id). Open addressing with linear probing; immutable after construction.
struct BPEMergeTable: Sendable {
    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private(set) var count = 0

    /// The value `lookup` returns when a pair has no merge; compares greater than every real entry.
    static let noMerge = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: BPEMergeTable.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }

    /// Sets the merge of (a, b); a later rule for the same pair replaces an earlier one, as in HF.
    mutating func insert(_ a: Int32, _ b: Int32, rank: Int, merged: Int32) {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        var i = BPEMergeTable.slot(key, mask)
        while keys[i] != BPEMergeTable.empty && keys[i] != key { i = (i + 1) & mask }
        if keys[i] == BPEMergeTable.empty { count += 1 }
        keys[i] = key
        values[i] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(bitPattern: merged))
    }

    /// (rank << 32 | merged id) for the pair (a, b), or `noMerge`.
    @inline(__always)
    func lookup(_ a: Int32, _ b: Int32) -> UInt64 {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        return keys.withUnsafeBufferPointer { k in
            var i = BPEMergeTable.slot(key, mask)
            while true {
                let stored = k[i]
                if stored == key { return values[i] }
                if stored == BPEMergeTable.empty { return BPEMergeTable.noMerge }
                i = (i + 1) & mask
            }
        }
    }
}

/// Scratch space for merging one word, reused across words to avoid allocations.
struct BPEMergeScratch {
    var ranks: [UInt64] = []
    var heap: [UInt64] = []
    var prev: [Int32] = []
    var next: [Int32] = []

    init() {}
}

extension BPEMergeTable {
    /// Applies the merges to `symbols` in rank order, leftmost first among equal ranks (the result of HF's
    /// heap-driven `Word::merge_all`). Short words use a linear scan, long ones a heap over a linked list.
    func mergeAll(_ symbols: inout [Int32], scratch: inout BPEMergeScratch) {
        if symbols.count < 2 { return }
        if symbols.count <= 48 {
            mergeByScan(&symbols, ranks: &scratch.ranks)
        } else {
            mergeByHeap(&symbols, scratch: &scratch)
        }
    }

    private func mergeByScan(_ symbols: inout [Int32], ranks: inout [UInt64]) {
        var n = symbols.count
        ranks.removeAll(keepingCapacity: true)
        for i in 0..<(n - 1) { ranks.append(lookup(symbols[i], symbols[i + 1])) }
        while n > 1 {
            var best = BPEMergeTable.noMerge
            var at = -1
            for i in 0..<(n - 1) where ranks[i] < best {
                best = ranks[i]
                at = i
            }
            if at < 0 { break }
            symbols[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            symbols.remove(at: at + 1)
            ranks.remove(at: at)
            n -= 1
            if at > 0 { ranks[at - 1] = lookup(symbols[at - 1], symbols[at]) }
            if at < n - 1 { ranks[at] = lookup(symbols[at], symbols[at + 1]) }
        }
    }

    /// Heap entries pack (rank << 32 | position); the merged id is looked up again when popped, which
    /// also discards entries made stale by earlier merges.
    private func mergeByHeap(_ symbols: inout [Int32], scratch: inout BPEMergeScratch) {
        let n = symbols.count
        scratch.prev.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        for i in 0..<n {
            scratch.prev.append(Int32(i - 1))
            scratch.next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        var alive = [Bool](repeating: true, count: n)
        var heap = Heap(storage: scratch.heap)
        heap.removeAll()
        for i in 0..<(n - 1) {
            let m = lookup(symbols[i], symbols[i + 1])
            if m != BPEMergeTable.noMerge { heap.push((m >> 32) << 32 | UInt64(i)) }
        }
        while let top = heap.pop() {
            let pos = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[pos] else { continue }
            let nx = Int(scratch.next[pos])
            if nx < 0 { continue }
            let m = lookup(symbols[pos], symbols[nx])
            if m == BPEMergeTable.noMerge || (m >> 32) != rank { continue }
            symbols[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            alive[nx] = false
            let nn = Int(scratch.next[nx])
            scratch.next[pos] = Int32(nn)
            if nn >= 0 { scratch.prev[nn] = Int32(pos) }
            let pv = Int(scratch.prev[pos])
            if pv >= 0 {
                let pm = lookup(symbols[pv], symbols[pos])
                if pm != BPEMergeTable.noMerge { heap.push((pm >> 32) << 32 | UInt64(pv)) }
            }
            if nn >= 0 {
                let nm = lookup(symbols[pos], symbols[nn])
                if nm != BPEMergeTable.noMerge { heap.push((nm >> 32) << 32 | UInt64(pos)) }
            }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i >= 0 {
            out.append(symbols[i])
            i = Int(scratch.next[i])
        }
        scratch.heap = heap.storage
        symbols = out
    }
}

/// A binary min-heap of packed UInt64 keys.
private struct Heap {
    var storage: [UInt64]

    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

    mutating func push(_ v: UInt64) {
        storage.append(v)
        var i = storage.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if storage[parent] <= storage[i] { break }
            storage.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let first = storage.first else { return nil }
        let last = storage.removeLast()
        if storage.isEmpty { return first }
        storage[0] = last
        var i = 0
        let n = storage.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            var c = l
            if l + 1 < n && storage[l + 1] < storage[l] { c = l + 1 }
            if storage[i] <= storage[c] { break }
            storage.swapAt(i, c)
            i = c
        }
        return first
    }
}
