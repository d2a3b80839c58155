import Compute

/// SGLang's RadixAttention prefix cache (spec §7.2): a radix tree over token ids whose values are KV slots of
/// `pool`, shared by every request whose prompt starts with the same tokens.
///
/// The tree owns one reference to each slot it holds; a request locks the path of its matched prefix from
/// admission until it finishes, so that path cannot be evicted. Unlocked leaves are evicted in LRU order of a
/// logical clock. Owned by the scheduler thread only.
public final class RadixCache: @unchecked Sendable {
    // @unchecked: every method is called from the scheduler thread; nothing here is shared across threads.
    /// The KV pool whose slots the tree holds.
    public let pool: TokenToKVPool
    /// True when prefix caching is off (`--disable-radix-cache`): nothing is stored, every match is empty.
    public let disabled: Bool
    /// Prefix-match counters the scheduler feeds through `recordHit`.
    public private(set) var hitStats = RadixCacheHitStats()

    /// Tokens in nodes with `lockRef == 0`.
    public private(set) var evictableSize = 0
    /// Tokens in locked nodes (the root excluded).
    public private(set) var protectedSize = 0
    /// Nodes in the tree, the root excluded.
    public private(set) var nodeCount = 0

    /// The empty-key root; `lockRef` 1, never evicted.
    public private(set) var root: RadixNode
    private var clock: UInt64 = 0
    private var nextSerial: UInt64 = 1
    private var heap = RadixLRUHeap()

    /// A cache holding slots of `pool`; `disabled` turns it into SGLang's "no radix cache" mode.
    public init(pool: TokenToKVPool, disabled: Bool = false) {
        self.pool = pool
        self.disabled = disabled
        root = Self.makeRoot()
    }

    deinit {
        // Dismantle iteratively: the default recursive release of a deep chain could exhaust the stack.
        var stack = [root]
        while let node = stack.popLast() {
            stack.append(contentsOf: node.children.values)
            node.children = [:]
        }
    }

    private static func makeRoot() -> RadixNode {
        let root = RadixNode(key: [], value: [], parent: nil, lastAccess: 0, serial: 0)
        root.lockRef = 1
        return root
    }

    /// Tokens held by the tree.
    public var totalCachedTokens: Int { evictableSize + protectedSize }

    // MARK: Match and insert

    /// Longest cached prefix of `key`: its KV slots and the node where the match ends (splitting a node when
    /// the match ends inside it). Touches the path's access clock. Disabled cache: `([], root)`.
    public func matchPrefix(_ key: ArraySlice<Int32>) -> (slots: [Int32], node: RadixNode) {
        guard !disabled else { return ([], root) }
        let now = tick()
        var node = root
        var slots: [Int32] = []
        var i = key.startIndex
        while i < key.endIndex, let child = node.children[key[i]] {
            let n = commonPrefixLength(child.key, key[i...])
            let next = n < child.key.count ? split(child, at: n) : child
            next.lastAccess = now
            slots.append(contentsOf: next.value)
            node = next
            i += n
            if next !== child { break }
        }
        noteTouched(node)
        return (slots, node)
    }

    /// `matchPrefix` over a whole array.
    public func matchPrefix(_ key: [Int32]) -> (slots: [Int32], node: RadixNode) {
        matchPrefix(key[...])
    }

    /// Inserts `key → slots` and returns how many leading tokens were ALREADY in the tree: the caller frees its
    /// own slots in `slots[alreadyCachedByCaller..<returned]` (duplicates), the tree takes the rest. New leaves
    /// count as evictable. Only the first `min(key.count, slots.count)` pairs are used. Disabled cache: 0.
    @discardableResult
    public func insert(_ key: ArraySlice<Int32>, slots: ArraySlice<Int32>) -> Int {
        guard !disabled else { return 0 }
        let count = min(key.count, slots.count)
        let key = key.prefix(count), slots = slots.prefix(count)
        let now = tick()
        var node = root
        var i = 0
        while i < count {
            let k = key.startIndex + i
            guard let child = node.children[key[k]] else {
                let leaf = RadixNode(
                    key: Array(key[k...]), value: Array(slots[(slots.startIndex + i)...]), parent: node,
                    lastAccess: now, serial: makeSerial())
                node.children[key[k]] = leaf
                evictableSize += leaf.value.count
                nodeCount += 1
                heap.push(leaf)
                return i
            }
            let n = commonPrefixLength(child.key, key[k...])
            let next = n < child.key.count ? split(child, at: n) : child
            next.lastAccess = now
            node = next
            i += n
        }
        noteTouched(node)
        return count
    }

    /// `insert` over whole arrays.
    @discardableResult
    public func insert(_ key: [Int32], slots: [Int32]) -> Int {
        insert(key[...], slots: slots[...])
    }

    // MARK: Locks

    /// Locks the path `node → root` (root excluded); returns the change of `evictableSize` (≤ 0), as SGLang's
    /// `inc_lock_ref`. An evicted node is not in the tree and is left alone (returns 0).
    @discardableResult
    public func incLockRef(_ node: RadixNode) -> Int {
        guard !disabled, !node.isEvicted else { return 0 }
        var delta = 0
        var current: RadixNode? = node
        while let n = current, n !== root {
            if n.lockRef == 0 {
                evictableSize -= n.value.count
                protectedSize += n.value.count
                delta -= n.value.count
            }
            n.lockRef += 1
            current = n.parent
        }
        return delta
    }

    /// Unlocks the path `node → root`; returns the change of `evictableSize` (≥ 0), as SGLang's `dec_lock_ref`.
    /// Nodes that are not locked are left alone rather than going negative.
    @discardableResult
    public func decLockRef(_ node: RadixNode) -> Int {
        guard !disabled, !node.isEvicted else { return 0 }
        var delta = 0
        var current: RadixNode? = node
        while let n = current, n !== root, n.lockRef > 0 {
            n.lockRef -= 1
            if n.lockRef == 0 {
                evictableSize += n.value.count
                protectedSize -= n.value.count
                delta += n.value.count
                if n.isLeaf { heap.push(n) }
            }
            current = n.parent
        }
        return delta
    }

    // MARK: Eviction

    /// Frees at least `tokens` slots when possible by evicting unlocked leaves, least recently used first;
    /// a parent left as an unlocked leaf becomes a candidate in turn. Returns the number of slots freed.
    @discardableResult
    public func evict(_ tokens: Int) -> Int {
        guard !disabled, tokens > 0 else { return 0 }
        var freed: [Int32] = []
        while freed.count < tokens, let entry = heap.pop() {
            let node = entry.node
            guard let parent = node.parent, !node.isEvicted, node.isLeaf, node.lockRef == 0,
                entry.time == node.lastAccess, let first = node.key.first
            else { continue }
            freed.append(contentsOf: node.value)
            parent.children[first] = nil
            node.parent = nil
            node.isEvicted = true
            evictableSize -= node.value.count
            nodeCount -= 1
            if parent !== root, parent.isLeaf, parent.lockRef == 0 { heap.push(parent) }
        }
        pool.free(freed)
        return freed.count
    }

    // MARK: Request flows

    /// SGLang's `cache_finished_req`. `tokens` = (prompt + output)[..<n-1] (the ids that have KV), `slots` their
    /// KV slots from the request's req_to_token row, `cachedPrefixLen` = how many leading slots came from the
    /// tree at admission (not freed), `lockedNode` = the node the request locked. Inserts, frees the request's
    /// duplicate slots and any slots past `tokens.count`, and unlocks `lockedNode`.
    /// Disabled: frees `slots[cachedPrefixLen...]` (everything the request owns) and nothing else.
    public func cacheFinished(tokens: [Int32], slots: [Int32], cachedPrefixLen: Int, lockedNode: RadixNode) {
        let owned = min(max(cachedPrefixLen, 0), slots.count)
        guard !disabled else {
            pool.free(Array(slots[owned...]))
            return
        }
        let count = min(tokens.count, slots.count)
        let already = insert(tokens[..<count], slots: slots[..<count])
        if already > owned { pool.free(Array(slots[owned..<already])) }
        if slots.count > count { pool.free(Array(slots[max(count, owned)...])) }
        decLockRef(lockedNode)
    }

    /// SGLang's `cache_unfinished_req` (after a prefill chunk): inserts `tokens`/`slots`, frees the request's
    /// duplicate slots, re-matches, moves the lock from `lockedNode` to the new node and returns the canonical
    /// slots of `tokens` (the caller writes them back into its req_to_token row and uses their count as its
    /// new cached prefix length) and the new locked node. Disabled: returns `(slots, lockedNode)`.
    public func cacheUnfinished(tokens: [Int32], slots: [Int32], cachedPrefixLen: Int, lockedNode: RadixNode)
        -> (slots: [Int32], node: RadixNode)
    {
        guard !disabled else { return (slots, lockedNode) }
        let owned = min(max(cachedPrefixLen, 0), slots.count)
        let count = min(tokens.count, slots.count)
        let already = insert(tokens[..<count], slots: slots[..<count])
        if already > owned { pool.free(Array(slots[owned..<already])) }
        let (canonical, node) = matchPrefix(tokens[..<count])
        decLockRef(lockedNode)
        incLockRef(node)
        return (canonical, node)
    }

    /// Drops the whole tree (flush_cache), returning every slot it holds to the pool. Refused (false) while any
    /// node is locked.
    @discardableResult
    public func reset() -> Bool {
        guard protectedSize == 0 else { return false }
        var freed: [Int32] = []
        var stack = Array(root.children.values)
        while let node = stack.popLast() {
            freed.append(contentsOf: node.value)
            stack.append(contentsOf: node.children.values)
            // Unlinked one by one: releasing a deep chain recursively could exhaust the stack.
            node.children = [:]
            node.isEvicted = true
            node.parent = nil
        }
        // Dictionary order is seeded per process: sort so the pool hands out slots reproducibly (low first).
        pool.free(freed.sorted(by: >))
        // Holders of the old root (requests that matched nothing) must not touch the new tree's counters.
        root.children = [:]
        root.isEvicted = true
        root = Self.makeRoot()
        heap.removeAll()
        evictableSize = 0
        nodeCount = 0
        return true
    }

    // MARK: Statistics and checks

    /// Adds one admission's prefix match (`matched` of `total` tokens found) to `hitStats`.
    public func recordHit(matched: Int, total: Int) {
        hitStats.hitTokens += max(0, matched)
        hitStats.queriedTokens += max(0, total)
    }

    /// Zeroes `hitStats`.
    public func resetHitStats() { hitStats = RadixCacheHitStats() }

    /// With nothing running, `pool.available + evictableSize + protectedSize == pool.size - 1` and nothing is
    /// locked; returns a description of the violation, or nil.
    public func checkIdleInvariant() -> String? {
        if protectedSize != 0 { return "idle radix cache still has \(protectedSize) locked tokens" }
        let accounted = pool.available + evictableSize + protectedSize
        guard accounted == pool.size - 1 else {
            return "KV slot leak: available \(pool.available) + evictable \(evictableSize) + protected "
                + "\(protectedSize) = \(accounted), pool holds \(pool.size - 1)"
        }
        return nil
    }

    // MARK: Internals

    private func tick() -> UInt64 {
        clock += 1
        root.lastAccess = clock
        return clock
    }

    private func makeSerial() -> UInt64 {
        defer { nextSerial += 1 }
        return nextSerial
    }

    /// A touched unlocked leaf needs an entry carrying its new clock value.
    private func noteTouched(_ node: RadixNode) {
        if node !== root, node.isLeaf, node.lockRef == 0 { heap.push(node) }
        if heap.count > 2 * nodeCount + 1024 { rebuildHeap() }
    }

    private func rebuildHeap() {
        var leaves: [RadixNode] = []
        var stack = [root]
        while let node = stack.popLast() {
            if node !== root, node.isLeaf, node.lockRef == 0 { leaves.append(node) }
            stack.append(contentsOf: node.children.values)
        }
        heap.rebuild(leaves)
    }

    /// Splits `child` after `n` tokens: a new node takes the first `n` (and `child`'s lock count), `child`
    /// keeps the rest and its identity. Returns the new node.
    private func split(_ child: RadixNode, at n: Int) -> RadixNode {
        let parent = child.parent ?? root
        let mid = RadixNode(
            key: Array(child.key[..<n]), value: Array(child.value[..<n]), parent: parent,
            lastAccess: child.lastAccess, serial: makeSerial())
        mid.lockRef = child.lockRef
        child.key.removeFirst(n)
        child.value.removeFirst(n)
        child.parent = mid
        mid.children[child.key[0]] = child
        parent.children[mid.key[0]] = mid
        nodeCount += 1
        return mid
    }

    private func commonPrefixLength(_ a: [Int32], _ b: ArraySlice<Int32>) -> Int {
        var n = 0
        var j = b.startIndex
        while n < a.count, j < b.endIndex, a[n] == b[j] {
            n += 1
            j += 1
        }
        return n
    }
}
