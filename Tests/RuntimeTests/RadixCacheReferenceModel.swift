import Runtime

/// A deliberately naive model of the radix cache's semantics (spec §7.2), with no tree at all: one dictionary
/// entry per cached token, keyed by the whole prefix that ends at that token.
///
/// Each entry records the KV slot, the logical time of its last match/insert, how many locks cover it, and
/// whether a tree node ends there ("boundary": where an insert's key ended or diverged, or a match stopped —
/// the places the spec says a node is split or created). Eviction removes whole leaf segments (back to the
/// previous boundary), least recently touched first, until enough tokens are freed.
struct RadixCacheReferenceModel {
    struct Entry: Equatable, CustomStringConvertible {
        var slot: Int32
        var time: UInt64
        var locks: Int
        var boundary: Bool

        var description: String { "slot \(slot) t\(time) locks \(locks)\(boundary ? " |" : "")" }
    }

    let alphabet: [Int32]
    private(set) var entries: [[Int32]: Entry] = [:]
    private(set) var clock: UInt64 = 0
    /// Set when two evictable leaves ever carry the same time (the real cache's order would then be arbitrary).
    private(set) var sawLRUTie = false

    init(alphabet: [Int32]) { self.alphabet = alphabet }

    var evictable: Int { entries.values.filter { $0.locks == 0 }.count }
    var protected: Int { entries.values.filter { $0.locks > 0 }.count }
    var total: Int { entries.count }

    private func matchedLength(_ key: [Int32]) -> Int {
        var m = 0
        while m < key.count, entries[Array(key[...m])] != nil { m += 1 }
        return m
    }

    private mutating func touch(_ key: [Int32], _ length: Int) {
        for j in stride(from: 1, through: length, by: 1) { entries[Array(key[..<j])]?.time = clock }
    }

    private mutating func markBoundary(_ key: [Int32], _ length: Int) {
        if length > 0 { entries[Array(key[..<length])]?.boundary = true }
    }

    /// Slots of the longest cached prefix; touches it and marks where it ends.
    mutating func match(_ key: [Int32]) -> [Int32] {
        clock += 1
        let m = matchedLength(key)
        touch(key, m)
        markBoundary(key, m)
        return (0..<m).map { entries[Array(key[...$0])]?.slot ?? -1 }
    }

    /// Adds the missing suffix of `key` with the matching `slots`; returns the length already present.
    mutating func insert(_ key: [Int32], _ slots: [Int32]) -> Int {
        let count = min(key.count, slots.count)
        let key = Array(key.prefix(count))
        clock += 1
        let m = matchedLength(key)
        touch(key, m)
        for j in m..<count { entries[Array(key[...j])] = Entry(slot: slots[j], time: clock, locks: 0, boundary: false) }
        markBoundary(key, m)
        markBoundary(key, count)
        return m
    }

    /// Locks every token of `prefix`; returns the change of the evictable count.
    mutating func lock(_ prefix: [Int32]) -> Int {
        var delta = 0
        for j in stride(from: 1, through: prefix.count, by: 1) {
            let p = Array(prefix[..<j])
            if entries[p]?.locks == 0 { delta -= 1 }
            entries[p]?.locks += 1
        }
        return delta
    }

    mutating func unlock(_ prefix: [Int32]) -> Int {
        var delta = 0
        for j in stride(from: 1, through: prefix.count, by: 1) {
            let p = Array(prefix[..<j])
            entries[p]?.locks -= 1
            if entries[p]?.locks == 0 { delta += 1 }
        }
        return delta
    }

    private func hasChild(_ p: [Int32]) -> Bool {
        alphabet.contains { entries[p + [$0]] != nil }
    }

    /// Evicts least-recently-touched unlocked leaf segments until `tokens` are freed; returns the freed slots.
    mutating func evict(_ tokens: Int) -> [Int32] {
        var freed: [Int32] = []
        while freed.count < tokens {
            var best: (prefix: [Int32], time: UInt64)?
            for (p, e) in entries where e.locks == 0 && !hasChild(p) {
                if let b = best, b.time == e.time { sawLRUTie = true }
                if best == nil || e.time < best?.time ?? 0 { best = (p, e.time) }
            }
            guard let leaf = best?.prefix else { break }
            var start = leaf.count - 1
            while start > 0, entries[Array(leaf[..<start])]?.boundary == false { start -= 1 }
            for j in start..<leaf.count {
                let p = Array(leaf[...j])
                if let e = entries.removeValue(forKey: p) { freed.append(e.slot) }
            }
        }
        return freed
    }

    /// Drops everything unless something is locked; returns the freed slots, or nil when refused.
    mutating func reset() -> [Int32]? {
        guard protected == 0 else { return nil }
        let slots = entries.values.map(\.slot)
        entries = [:]
        return slots
    }

    /// The real cache's tree flattened into the same per-token form.
    static func flatten(_ cache: RadixCache) -> [[Int32]: Entry] {
        var out: [[Int32]: Entry] = [:]
        var stack: [(node: RadixNode, prefix: [Int32])] = [(cache.root, [])]
        while let (node, prefix) = stack.popLast() {
            for child in node.children.values {
                var p = prefix
                for (j, token) in child.key.enumerated() {
                    p.append(token)
                    out[p] = Entry(
                        slot: child.value[j], time: child.lastAccess, locks: child.lockRef,
                        boundary: j == child.key.count - 1)
                }
                stack.append((child, p))
            }
        }
        return out
    }

    /// The first difference between this model and the real tree, or nil.
    func difference(from cache: RadixCache) -> String? {
        let real = Self.flatten(cache)
        if real.count != entries.count { return "tree holds \(real.count) tokens, model \(entries.count)" }
        for (p, e) in entries {
            guard let r = real[p] else { return "prefix \(p) missing from the tree" }
            if r != e { return "prefix \(p): tree \(r), model \(e)" }
        }
        if cache.evictableSize != evictable || cache.protectedSize != protected {
            return "counters evictable \(cache.evictableSize) / protected \(cache.protectedSize), "
                + "model \(evictable) / \(protected)"
        }
        return nil
    }
}
