extension RadixCache {
    /// The `dfs-weight` scheduling order (spec §7.8): `nodes[i]` is the matched node of waiting request `i`.
    /// A node's weight is the number of requests matched at it or below it; the tree is walked depth-first from
    /// the root, children by descending weight (ties: smaller first token id), and each node's requests are
    /// emitted after its children's, in their given order. Returns indices into `nodes`. Requests whose node has
    /// been evicted since they matched are not in the tree and come last, in their given order.
    public func dfsWeightOrder(_ nodes: [RadixNode]) -> [Int] {
        var requestsAt: [ObjectIdentifier: [Int]] = [:]
        var weight: [ObjectIdentifier: Int] = [:]
        var detached: [Int] = []
        for (i, node) in nodes.enumerated() {
            guard node === root || (!node.isEvicted && node.parent != nil) else {
                detached.append(i)
                continue
            }
            requestsAt[ObjectIdentifier(node), default: []].append(i)
            var current: RadixNode? = node
            while let n = current {
                weight[ObjectIdentifier(n), default: 0] += 1
                current = n.parent
            }
        }
        // Iterative post-order walk over the weighted part of the tree only (weight 0 has no requests below).
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        var stack: [(node: RadixNode, expanded: Bool)] = [(root, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded {
                order.append(contentsOf: requestsAt[ObjectIdentifier(node)] ?? [])
                continue
            }
            stack.append((node, true))
            let weighted = node.children.compactMap { first, child -> (first: Int32, weight: Int, node: RadixNode)? in
                guard let w = weight[ObjectIdentifier(child)], w > 0 else { return nil }
                return (first, w, child)
            }
            let sorted = weighted.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.first < $1.first }
            // Pushed in reverse so the heaviest child is visited first.
            for child in sorted.reversed() { stack.append((child.node, false)) }
        }
        return order + detached
    }

    /// Full consistency check of the tree (for tests and debugging, O(tree)): key/value lengths, child keys and
    /// parent links, prefix lengths, lock counts (a node's count covers its children's), the evictable/protected
    /// counters, slots within the pool and held once. Returns a description of the first problem, or nil.
    public func checkStructure() -> String? {
        guard root.lockRef == 1, root.key.isEmpty, root.value.isEmpty, root.parent == nil else {
            return "root changed: lockRef \(root.lockRef), key \(root.key.count) tokens"
        }
        var evictable = 0, protected = 0, count = 0
        var seen = Set<Int32>()
        var stack = [root]
        while let node = stack.popLast() {
            var childLocks = 0
            for (first, child) in node.children {
                count += 1
                childLocks += child.lockRef
                guard child.parent === node, !child.isEvicted else { return "node \(child.serial): broken parent link" }
                guard !child.key.isEmpty, child.key.count == child.value.count, child.key[0] == first else {
                    return "node \(child.serial): key \(child.key.count) / value \(child.value.count) tokens, "
                        + "filed under \(first)"
                }
                guard child.prefixLength == node.prefixLength + child.key.count else {
                    return "node \(child.serial): prefixLength \(child.prefixLength) is not parent's + key length"
                }
                for s in child.value {
                    guard s > 0, Int(s) < pool.size else { return "node \(child.serial): slot \(s) outside the pool" }
                    guard seen.insert(s).inserted else { return "slot \(s) held twice by the tree" }
                }
                if child.lockRef == 0 { evictable += child.value.count } else { protected += child.value.count }
                stack.append(child)
            }
            if node !== root, node.lockRef < childLocks {
                return "node \(node.serial): lockRef \(node.lockRef) below its children's \(childLocks)"
            }
        }
        guard evictable == evictableSize, protected == protectedSize, count == nodeCount else {
            return "counters evictable \(evictableSize), protected \(protectedSize), nodes \(nodeCount); "
                + "tree has \(evictable), \(protected), \(count)"
        }
        return nil
    }
}
