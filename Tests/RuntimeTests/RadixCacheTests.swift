import Compute
import Runtime
import Testing

/// `RadixCache` against a naive per-token model (`RadixCacheReferenceModel`), a shadow ownership map of every
/// KV slot, and the accounting invariant `available + evictable + protected == usable slots`, over thousands of
/// random request flows on a real (tiny) `TokenToKVPool`.
struct RadixCacheTests {
    static func tinyPool(_ size: Int) -> TokenToKVPool {
        TokenToKVPool(size: size, layerCount: 1, kvHeads: 1, headDim: 1)
    }

    // MARK: Randomized property test

    @Test(arguments: 0..<12)
    func randomFlowsMatchReferenceModel(seed: Int) {
        var sim = RadixSimulation(seed: UInt64(seed), poolSize: 64, disabled: false)
        sim.run(steps: 700)
        #expect(sim.failure == nil, "seed \(seed): \(sim.failure ?? "")")
        guard sim.failure == nil else { return }
        // Every flow was exercised: prefix hits, eviction under pressure, refused admissions, chunks, resets.
        #expect(sim.counts["finish", default: 0] > 20 && sim.counts["evicted", default: 0] > 10)
        #expect(sim.counts["unfinished", default: 0] > 10 && sim.counts["reset", default: 0] > 0)
        #expect(sim.counts["hit", default: 0] > 20 && sim.counts["retract", default: 0] > 0)
    }

    @Test(arguments: 0..<3)
    func disabledCacheOwnsNothing(seed: Int) {
        var sim = RadixSimulation(seed: UInt64(100 + seed), poolSize: 64, disabled: true)
        sim.run(steps: 700)
        #expect(sim.failure == nil, "seed \(seed): \(sim.failure ?? "")")
        #expect(sim.counts["finish", default: 0] > 20)
    }

    // MARK: Unit tests

    @Test func secondRequestReusesSharedLongPrefix() throws {
        let pool = Self.tinyPool(2048)
        let cache = RadixCache(pool: pool)
        var rng = SplitMix64(seed: 7)
        let shared = (0..<500).map { _ in Int32(rng.next() % 32000) }
        let first = shared + (0..<100).map { _ in Int32(rng.next() % 32000) }
        let m1 = cache.matchPrefix(first)
        #expect(m1.slots.isEmpty && m1.node === cache.root)
        cache.incLockRef(m1.node)
        let slots1 = try pool.alloc(first.count)
        // The last generated token has no KV yet: cache everything before it.
        cache.cacheFinished(
            tokens: Array(first.dropLast()), slots: Array(slots1.dropLast()), cachedPrefixLen: 0, lockedNode: m1.node)
        pool.free([slots1[first.count - 1]])

        let second = shared + [Int32(32001)] + (0..<50).map { _ in Int32(rng.next() % 32000) }
        let m2 = cache.matchPrefix(second)
        #expect(m2.slots.count >= 499)
        #expect(m2.slots == Array(slots1[..<m2.slots.count]))
        #expect(m2.node.prefixLength == m2.slots.count)
        #expect(cache.checkStructure() == nil)
        #expect(cache.checkIdleInvariant() == nil)
    }

    @Test func evictsLeastRecentlyUsedLeavesAndCascadesToParents() throws {
        let pool = Self.tinyPool(64)
        let cache = RadixCache(pool: pool)
        func put(_ key: [Int32]) throws {
            let slots = try pool.alloc(key.count)
            let already = cache.insert(key, slots: slots)
            pool.free(Array(slots[..<already]))
        }
        try put([1, 1, 1])
        try put([2, 2])
        try put([3, 3, 3, 3])
        try put([4, 5, 6])
        try put([4, 5, 7])
        _ = cache.matchPrefix([1, 1, 1])  // [1,1,1] becomes the most recent
        func cachedFirstTokens() -> Set<Int32> { Set(cache.root.children.keys) }

        #expect(cache.evict(1) == 2)  // [2,2] is the oldest leaf
        #expect(cachedFirstTokens() == [1, 3, 4])
        #expect(cache.evict(3) == 4)  // then [3,3,3,3]
        #expect(cachedFirstTokens() == [1, 4])
        // [4,5] has leaves [6] and [7]; lock [4,5,7] so only [6] can go, and the locked parent stays.
        let locked = cache.matchPrefix([4, 5, 7]).node
        #expect(cache.incLockRef(locked) == -3)
        #expect(cache.evict(10) == 4)  // [6] and then [1,1,1]; nothing else is unlocked
        #expect(cachedFirstTokens() == [4])
        #expect(cache.evictableSize == 0 && cache.protectedSize == 3)
        #expect(cache.reset() == false)
        #expect(cache.decLockRef(locked) == 3)
        #expect(cache.evict(1) == 1)  // leaf [7] first, then its parent [4,5] when more is needed
        #expect(cache.evict(1) == 2)
        #expect(cache.totalCachedTokens == 0 && cache.nodeCount == 0)
        #expect(cache.checkIdleInvariant() == nil)
        #expect(pool.available == pool.size - 1)
    }

    @Test func lruOrderSurvivesManyTouches() throws {
        // Thousands of leaves and enough touches to make the lazy heap compact itself several times.
        let pool = Self.tinyPool(3 * 2000 + 1)
        let cache = RadixCache(pool: pool)
        let keys: [[Int32]] = (0..<2000).map { [Int32($0), 7, Int32($0)] }
        for key in keys { cache.insert(key, slots: try pool.alloc(3)) }
        var rng = SplitMix64(seed: 3)
        var lastTouch = Array(repeating: -1, count: keys.count)
        for step in 0..<20000 {
            let k = Int(rng.next() % UInt64(keys.count))
            _ = cache.matchPrefix(keys[k])
            lastTouch[k] = step
        }
        // Never-touched keys keep their insertion order.
        let expected = keys.indices.sorted { (lastTouch[$0], $0) < (lastTouch[$1], $1) }.map { Int32($0) }
        var order: [Int32] = []
        while cache.totalCachedTokens > 0 {
            let before = Set(cache.root.children.keys)
            #expect(cache.evict(1) == 3)
            order.append(contentsOf: before.subtracting(cache.root.children.keys))
        }
        #expect(order == expected)
        #expect(cache.checkIdleInvariant() == nil)
    }

    @Test func deepChainMatchesEvictsAndResets() throws {
        // Keys [0], [0,0], [0,0,0], ... make a chain of one-token nodes thousands deep.
        let depth = 2500
        let pool = Self.tinyPool(depth + 1)
        var cache: RadixCache? = RadixCache(pool: pool)
        guard let tree = cache else { return }
        var slots: [Int32] = []
        for n in 1...depth {
            slots += try pool.alloc(1)
            #expect(tree.insert(Array(repeating: 0, count: n), slots: slots) == n - 1)
        }
        #expect(tree.nodeCount == depth && tree.checkStructure() == nil)
        let full = tree.matchPrefix(Array(repeating: 0, count: depth + 5))
        #expect(full.slots == slots && full.node.prefixLength == depth)
        #expect(tree.evict(1) == 1)  // only the deepest node is a leaf
        #expect(tree.matchPrefix(Array(repeating: 0, count: depth)).slots == Array(slots.dropLast()))
        let node = tree.matchPrefix(Array(repeating: 0, count: depth / 2)).node
        #expect(tree.incLockRef(node) == -(depth / 2))
        #expect(tree.evict(depth) == depth / 2 - 1)  // everything below the locked half
        #expect(tree.decLockRef(node) == depth / 2)
        #expect(tree.reset() && pool.available == depth)
        // A second deep tree dropped with the cache itself (iterative teardown).
        slots = []
        for n in 1...depth {
            slots += try pool.alloc(1)
            tree.insert(Array(repeating: 1, count: n), slots: slots)
        }
        #expect(tree.nodeCount == depth && tree.checkStructure() == nil)
        cache = nil
    }

    @Test func dfsWeightOrderHandExample() throws {
        let pool = Self.tinyPool(64)
        let cache = RadixCache(pool: pool)
        for key: [Int32] in [[1, 1], [2, 2], [2, 3]] {
            let slots = try pool.alloc(key.count)
            pool.free(Array(slots[..<cache.insert(key, slots: slots)]))
        }
        let keys: [[Int32]] = [[1, 1], [2, 2], [2, 3], [9], [2]]
        let nodes = keys.map { cache.matchPrefix($0).node }
        // [2] weighs 3 (r4 + r1 + r2) and goes first: its children (tie → smaller first token), then itself;
        // then [1,1] (r0); the root's own request (r3) last.
        #expect(cache.dfsWeightOrder(nodes) == [1, 2, 4, 0, 3])
        // A request whose node was evicted after matching is not in the tree: it goes last.
        let lone = cache.matchPrefix([1, 1]).node
        cache.evict(64)
        #expect(lone.isEvicted)
        #expect(cache.dfsWeightOrder([lone, cache.root]) == [1, 0])
    }

    @Test(arguments: 0..<5)
    func dfsWeightOrderMatchesRecursiveReference(seed: Int) throws {
        let pool = Self.tinyPool(512)
        let cache = RadixCache(pool: pool)
        var rng = SplitMix64(seed: UInt64(seed))
        func randomKey(_ maxLen: UInt64) -> [Int32] {
            (0..<Int(1 + rng.next() % maxLen)).map { _ in Int32(rng.next() % 3) }
        }
        for _ in 0..<40 {
            let key = randomKey(8)
            let slots = try pool.alloc(key.count)
            pool.free(Array(slots[..<cache.insert(key, slots: slots)]))
        }
        let nodes = (0..<30).map { _ in cache.matchPrefix(randomKey(10)).node }
        #expect(cache.dfsWeightOrder(nodes) == Self.recursiveDFSWeight(cache, nodes))
        #expect(cache.checkStructure() == nil)
    }

    /// SGLang's whole-tree recursion (calc_weight + get_dfs_priority), ties by smaller first token.
    static func recursiveDFSWeight(_ cache: RadixCache, _ nodes: [RadixNode]) -> [Int] {
        var at: [ObjectIdentifier: [Int]] = [:]
        for (i, n) in nodes.enumerated() { at[ObjectIdentifier(n), default: []].append(i) }
        func weight(_ n: RadixNode) -> Int {
            (at[ObjectIdentifier(n)]?.count ?? 0) + n.children.values.reduce(0) { $0 + weight($1) }
        }
        func visit(_ n: RadixNode, _ out: inout [Int]) {
            let kids = n.children.map { (first: $0.key, w: weight($0.value), node: $0.value) }
                .sorted { $0.w != $1.w ? $0.w > $1.w : $0.first < $1.first }
            for k in kids { visit(k.node, &out) }
            out.append(contentsOf: at[ObjectIdentifier(n)] ?? [])
        }
        var out: [Int] = []
        visit(cache.root, &out)
        return out
    }

    @Test func idleInvariantReportsLeaksAndLocks() throws {
        let pool = Self.tinyPool(32)
        let cache = RadixCache(pool: pool)
        let slots = try pool.alloc(4)
        cache.insert([5, 6, 7, 8], slots: slots)
        #expect(cache.checkIdleInvariant() == nil)
        let node = cache.matchPrefix([5, 6]).node
        cache.incLockRef(node)
        #expect(cache.checkIdleInvariant()?.contains("locked") == true)
        cache.decLockRef(node)
        let leaked = try pool.alloc(1)
        #expect(cache.checkIdleInvariant()?.contains("leak") == true)
        pool.free(leaked)
        #expect(cache.reset())
        #expect(cache.checkIdleInvariant() == nil && pool.available == 31)
    }

    @Test func hitStatsAccumulate() {
        let cache = RadixCache(pool: Self.tinyPool(8))
        cache.recordHit(matched: 30, total: 40)
        cache.recordHit(matched: 0, total: 60)
        #expect(cache.hitStats.hitTokens == 30 && cache.hitStats.queriedTokens == 100)
        #expect(cache.hitStats.hitRate == 0.3)
        cache.resetHitStats()
        #expect(cache.hitStats.hitRate == 0)
    }
}

/// Random request flows (admit → decode → chunk/finish/retract, plus raw inserts, matches, evictions, resets)
/// applied to the real cache and the reference model side by side; the first disagreement is recorded.
struct RadixSimulation {
    struct Request {
        var ids: [Int32]
        var slots: [Int32]
        var cached: Int
        var node: RadixNode
        var lockedPrefix: [Int32]
    }

    let pool: TokenToKVPool
    let cache: RadixCache
    let disabled: Bool
    var model: RadixCacheReferenceModel
    var rng: SplitMix64
    var requests: [Request] = []
    var history: [[Int32]] = []
    var failure: String?
    var counts: [String: Int] = [:]
    var step = 0
    static let alphabet: [Int32] = [0, 1, 2]

    init(seed: UInt64, poolSize: Int, disabled: Bool) {
        pool = RadixCacheTests.tinyPool(poolSize)
        cache = RadixCache(pool: pool, disabled: disabled)
        self.disabled = disabled
        model = RadixCacheReferenceModel(alphabet: Self.alphabet)
        rng = SplitMix64(seed: seed)
    }

    mutating func fail(_ message: String) {
        if failure == nil { failure = "step \(step): \(message)" }
    }

    mutating func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

    mutating func randomTokens(_ n: Int) -> [Int32] { (0..<n).map { _ in Self.alphabet[random(Self.alphabet.count)] } }

    /// A new key: often an old prompt's prefix plus a fresh tail, so prefixes collide at every depth.
    mutating func randomKey() -> [Int32] {
        if !history.isEmpty, random(3) != 0 {
            let base = history[random(history.count)]
            return Array(base.prefix(1 + random(base.count))) + randomTokens(random(6))
        }
        // Now and then a long prompt, to push the pool into eviction and refused admissions.
        return randomTokens(random(10) == 0 ? 20 + random(30) : 1 + random(12))
    }

    mutating func run(steps: Int) {
        for s in 0..<steps where failure == nil {
            step = s
            let op = random(100)
            switch op {
            case 0..<25: admit()
            case 25..<45: decode()
            case 45..<62: finish()
            case 62..<72: unfinished()
            case 72..<78: retract()
            case 78..<86: rawInsert()
            case 86..<93: plainMatch()
            case 93..<98: evictSome()
            default: resetIfIdle()
            }
            check()
        }
        // Drain: every request finishes; the idle invariant must then hold exactly.
        while failure == nil, !requests.isEmpty { finish() }
        check()
        if failure == nil, let problem = cache.checkIdleInvariant() { fail("idle: \(problem)") }
    }

    // MARK: Operations

    mutating func match(_ key: [Int32]) -> (slots: [Int32], node: RadixNode) {
        let real = cache.matchPrefix(key)
        let expected = disabled ? [] : model.match(key)
        if real.slots != expected { fail("match \(key): \(real.slots), model \(expected)") }
        if real.node.prefixLength != real.slots.count { fail("match node depth \(real.node.prefixLength)") }
        if disabled, real.node !== cache.root { fail("disabled match returned a non-root node") }
        return real
    }

    mutating func lock(_ node: RadixNode, _ prefix: [Int32]) {
        let d = cache.incLockRef(node)
        let e = disabled ? 0 : model.lock(prefix)
        if d != e { fail("incLockRef delta \(d), model \(e)") }
    }

    mutating func unlock(_ node: RadixNode, _ prefix: [Int32]) {
        let d = cache.decLockRef(node)
        let e = disabled ? 0 : model.unlock(prefix)
        if d != e { fail("decLockRef delta \(d), model \(e)") }
    }

    mutating func evict(_ n: Int) {
        let freed = cache.evict(n)
        let expected = disabled ? 0 : model.evict(n).count
        if freed != expected { fail("evict(\(n)) freed \(freed), model \(expected)") }
        if freed > 0 { counts["evicted", default: 0] += 1 }
    }

    /// `n` fresh slots, evicting first when the pool is short (as prepare_for_extend does); nil if impossible.
    mutating func allocate(_ n: Int) -> [Int32]? {
        if pool.available < n { evict(n - pool.available) }
        guard pool.available >= n, let slots = try? pool.alloc(n) else { return nil }
        let tree = Set(RadixCacheReferenceModel.flatten(cache).values.map(\.slot))
        let owned = Set(requests.flatMap { $0.slots[$0.cached...] })
        for s in slots where tree.contains(s) || owned.contains(s) || s <= 0 {
            fail("pool handed out slot \(s), which is still in use")
        }
        return slots
    }

    mutating func admit() {
        guard requests.count < 4 else { return }
        let prompt = randomKey()
        history.append(prompt)
        if history.count > 40 { history.removeFirst() }
        let (prefixSlots, node) = match(prompt)
        let m = prefixSlots.count
        if m > 0 { counts["hit", default: 0] += 1 }
        lock(node, Array(prompt[..<m]))
        guard let fresh = allocate(prompt.count - m) else {
            unlock(node, Array(prompt[..<m]))
            counts["rejected", default: 0] += 1
            return
        }
        requests.append(
            Request(ids: prompt, slots: prefixSlots + fresh, cached: m, node: node, lockedPrefix: Array(prompt[..<m])))
        counts["admit", default: 0] += 1
    }

    mutating func decode() {
        guard !requests.isEmpty else { return }
        let i = random(requests.count)
        let n = 1 + random(3)
        guard let fresh = allocate(n) else {
            retract(i)
            return
        }
        requests[i].ids += randomTokens(n)
        requests[i].slots += fresh
    }

    mutating func finish() {
        guard !requests.isEmpty else { return }
        let r = requests.remove(at: random(requests.count))
        // Sometimes the last slot belongs to a token that is not cached (it has no KV in SGLang's flow).
        let tokens = r.ids.count > 1 && random(3) == 0 ? Array(r.ids.dropLast()) : r.ids
        let before = pool.available
        var expectedFreed = r.slots.count - r.cached
        if !disabled {
            let count = min(tokens.count, r.slots.count)
            let already = model.insert(tokens, Array(r.slots[..<count]))
            expectedFreed = max(0, already - r.cached) + (r.slots.count - max(count, r.cached))
            _ = model.unlock(r.lockedPrefix)
        }
        cache.cacheFinished(tokens: tokens, slots: r.slots, cachedPrefixLen: r.cached, lockedNode: r.node)
        if pool.available - before != expectedFreed {
            fail("cacheFinished freed \(pool.available - before) slots, expected \(expectedFreed)")
        }
        counts["finish", default: 0] += 1
    }

    mutating func unfinished() {
        guard !requests.isEmpty else { return }
        let i = random(requests.count)
        let r = requests[i]
        let before = pool.available
        let result = cache.cacheUnfinished(
            tokens: r.ids, slots: r.slots, cachedPrefixLen: r.cached, lockedNode: r.node)
        if disabled {
            if result.slots != r.slots || result.node !== r.node { fail("disabled cacheUnfinished changed the request") }
            if pool.available != before { fail("disabled cacheUnfinished freed slots") }
            return
        }
        let already = model.insert(r.ids, r.slots)
        let canonical = model.match(r.ids)
        _ = model.unlock(r.lockedPrefix)
        _ = model.lock(r.ids)
        if result.slots != canonical { fail("cacheUnfinished slots \(result.slots), model \(canonical)") }
        if result.node.prefixLength != r.ids.count { fail("cacheUnfinished node ends at \(result.node.prefixLength)") }
        if pool.available - before != max(0, already - r.cached) {
            fail("cacheUnfinished freed \(pool.available - before), expected \(max(0, already - r.cached))")
        }
        requests[i].slots = result.slots
        requests[i].cached = result.slots.count
        requests[i].node = result.node
        requests[i].lockedPrefix = r.ids
        counts["unfinished", default: 0] += 1
    }

    mutating func retract() {
        guard !requests.isEmpty else { return }
        retract(random(requests.count))
    }

    /// Scheduler's retraction: free what the request owns, drop its lock.
    mutating func retract(_ i: Int) {
        let r = requests.remove(at: i)
        pool.free(Array(r.slots[r.cached...]))
        unlock(r.node, r.lockedPrefix)
        counts["retract", default: 0] += 1
    }

    mutating func rawInsert() {
        let key = randomKey()
        guard let slots = allocate(key.count) else { return }
        let already = cache.insert(key, slots: slots)
        let expected = disabled ? 0 : model.insert(key, slots)
        if already != expected { fail("insert \(key) found \(already) cached, model \(expected)") }
        // The caller owned every slot: the ones duplicating the cached prefix go back (all of them if disabled).
        pool.free(Array(slots[..<(disabled ? slots.count : already)]))
    }

    mutating func plainMatch() {
        _ = match(randomKey())
    }

    mutating func evictSome() {
        evict(1 + random(20))
    }

    mutating func resetIfIdle() {
        // Half the time flush as the server does (only when idle); otherwise try with requests running.
        if random(2) == 0 {
            while !requests.isEmpty { retract(requests.count - 1) }
        }
        let anyLocked = cache.protectedSize > 0
        let ok = cache.reset()
        let modelOK = disabled ? true : model.reset() != nil
        if ok != modelOK || ok == anyLocked { fail("reset returned \(ok) with protected \(cache.protectedSize)") }
        if ok { counts["reset", default: 0] += 1 }
    }

    // MARK: Checks after every step

    mutating func check() {
        if !disabled, let d = model.difference(from: cache) { fail(d) }
        if let s = cache.checkStructure() { fail(s) }
        if model.sawLRUTie { fail("two evictable leaves with the same access time") }
        let tree = RadixCacheReferenceModel.flatten(cache)
        if disabled, !tree.isEmpty || cache.totalCachedTokens != 0 { fail("disabled cache holds tokens") }
        let treeSlots = Set(tree.values.map(\.slot))
        var owned = Set<Int32>()
        for r in requests {
            for j in 0..<r.cached where tree[Array(r.ids[...j])]?.slot != r.slots[j] {
                fail("request's cached position \(j) is not the tree's slot")
            }
            for s in r.slots[r.cached...] where !owned.insert(s).inserted || treeSlots.contains(s) {
                fail("slot \(s) owned twice")
            }
        }
        let accounted = treeSlots.count + owned.count + pool.available
        if accounted != pool.size - 1 {
            fail("tree \(treeSlots.count) + requests \(owned.count) + free \(pool.available) != \(pool.size - 1)")
        }
        if cache.totalCachedTokens != treeSlots.count { fail("totalCachedTokens \(cache.totalCachedTokens)") }
    }
}
