/// One edge of the radix tree of `RadixCache` (SGLang's `TreeNode`): a run of token ids and the KV slots
/// that hold their keys and values.
///
/// Identity matters: a request holds a lock on the node its prefix match ended at, and a split keeps the
/// deeper part in the original object so such locks stay valid. Owned by the scheduler thread only.
public final class RadixNode {
    /// Token ids of this edge (empty only for the root).
    public internal(set) var key: [Int32]
    /// KV slots of `key`, one per token.
    public internal(set) var value: [Int32]
    /// Number of locks on paths through this node; the root holds 1 forever.
    public internal(set) var lockRef: Int
    /// The node above; nil for the root and for evicted nodes.
    public internal(set) weak var parent: RadixNode?
    /// Children keyed by the first token id of their key.
    public internal(set) var children: [Int32: RadixNode] = [:]
    /// Logical clock value of the last match or insert through this node (deterministic, not wall time).
    public internal(set) var lastAccess: UInt64
    /// Tokens from the root through the end of this node.
    public internal(set) var prefixLength: Int
    /// True once the node has left the tree (evicted or dropped by `reset`); its slots are no longer its own.
    public internal(set) var isEvicted = false
    /// Creation order: the final, deterministic tie-break of the LRU order.
    let serial: UInt64

    init(key: [Int32], value: [Int32], parent: RadixNode?, lastAccess: UInt64, serial: UInt64) {
        self.key = key
        self.value = value
        self.parent = parent
        self.lockRef = 0
        self.lastAccess = lastAccess
        self.serial = serial
        self.prefixLength = (parent?.prefixLength ?? 0) + key.count
    }

    /// True for a node without children.
    public var isLeaf: Bool { children.isEmpty }

    /// The full token sequence from the root through this node (walks to the root: O(depth)).
    public var prefix: [Int32] {
        var parts: [[Int32]] = []
        var node: RadixNode? = self
        while let n = node {
            parts.append(n.key)
            node = n.parent
        }
        return Array(parts.reversed().joined())
    }
}
