/// A binary min-heap of eviction candidates ordered by (lastAccess, serial).
///
/// Entries are never updated in place: a node gets a new entry whenever it may have become an unlocked leaf or
/// its clock moved, and `RadixCache` discards stale entries when they surface (lazy deletion).
struct RadixLRUHeap {
    struct Entry {
        let time: UInt64
        let serial: UInt64
        let node: RadixNode

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : serial < other.serial
        }
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }

    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    mutating func push(_ node: RadixNode) {
        entries.append(Entry(time: node.lastAccess, serial: node.serial, node: node))
        var i = entries.count - 1
        while i > 0 {
            let up = (i - 1) / 2
            guard entries[i].precedes(entries[up]) else { break }
            entries.swapAt(i, up)
            i = up
        }
    }

    mutating func pop() -> Entry? {
        guard let last = entries.popLast() else { return nil }
        guard !entries.isEmpty else { return last }
        let top = entries[0]
        entries[0] = last
        siftDown(0)
        return top
    }

    /// Replaces the contents with `nodes` in O(n).
    mutating func rebuild(_ nodes: [RadixNode]) {
        entries = nodes.map { Entry(time: $0.lastAccess, serial: $0.serial, node: $0) }
        var i = entries.count / 2
        while i > 0 {
            i -= 1
            siftDown(i)
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < entries.count, entries[l].precedes(entries[m]) { m = l }
            if r < entries.count, entries[r].precedes(entries[m]) { m = r }
            guard m != i else { return }
            entries.swapAt(i, m)
            i = m
        }
    }
}
