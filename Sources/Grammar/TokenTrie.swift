/// All token byte strings in one flat, depth-first trie (llguidance's toktrie layout): node i's subtree is
/// nodes i ..< i + subtreeSize[i], so a byte the automaton rejects skips every token below it at once.
public struct TokenTrie: Sendable {
    struct Node {
        var byte: UInt8
        /// Depth in bytes (root = 0).
        var depth: UInt16
        /// Nodes in this subtree, itself included.
        var subtreeSize: UInt32
        /// The token ending here, -1 for none; more tokens with the same bytes are in `duplicates`.
        var token: Int32
    }

    let nodes: [Node]
    /// Tokens whose bytes equal another token's (keyed by node index).
    let duplicates: [Int: [Int32]]
    /// The longest token, in bytes.
    public let maxDepth: Int
    /// Trie nodes, the root included.
    public var nodeCount: Int { nodes.count }

    /// Builds the trie from the token bytes (ids without bytes are left out).
    public init(_ vocabulary: TokenVocabulary) {
        var entries: [(id: Int, bytes: [UInt8])] = []
        for (id, bytes) in vocabulary.tokenBytes.enumerated() { if let bytes { entries.append((id, bytes)) } }
        entries.sort { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        var nodes: [Node] = [Node(byte: 0, depth: 0, subtreeSize: 1, token: -1)]
        var duplicates: [Int: [Int32]] = [:]
        // The path from the root to the latest node: node indices per depth.
        var path: [Int] = [0]
        var pathBytes: [UInt8] = []
        var maxDepth = 0
        for (id, bytes) in entries {
            // Longest common prefix with the current path.
            var common = 0
            while common < bytes.count, common < pathBytes.count, bytes[common] == pathBytes[common] { common += 1 }
            // Close the nodes below the common prefix.
            while path.count - 1 > common {
                let closed = path.removeLast()
                nodes[closed].subtreeSize = UInt32(nodes.count - closed)
                pathBytes.removeLast()
            }
            if common == bytes.count {
                // Same bytes as the node on the path.
                let node = path[common]
                if nodes[node].token < 0 { nodes[node].token = Int32(id) } else { duplicates[node, default: []].append(Int32(id)) }
                continue
            }
            for depth in common..<bytes.count {
                nodes.append(Node(byte: bytes[depth], depth: UInt16(min(depth + 1, Int(UInt16.max))), subtreeSize: 1,
                                  token: depth == bytes.count - 1 ? Int32(id) : -1))
                path.append(nodes.count - 1)
                pathBytes.append(bytes[depth])
            }
            maxDepth = max(maxDepth, bytes.count)
        }
        while let closed = path.popLast() { nodes[closed].subtreeSize = UInt32(nodes.count - closed) }
        self.nodes = nodes
        self.duplicates = duplicates
        self.maxDepth = maxDepth
    }

    /// The byte length of the longest token that is a prefix of `bytes` (0 when none is).
    func longestTokenPrefix(_ bytes: [UInt8]) -> Int {
        var node = 0
        var best = 0
        for (depth, byte) in bytes.enumerated() {
            // Children of `node` follow it in DFS order; skip sibling subtrees to find `byte`.
            var child = node + 1
            let end = node + Int(nodes[node].subtreeSize)
            var found = -1
            while child < end {
                if nodes[child].byte == byte {
                    found = child
                    break
                }
                child += Int(nodes[child].subtreeSize)
            }
            guard found >= 0 else { break }
            node = found
            if nodes[node].token >= 0 { best = depth + 1 }
        }
        return best
    }

    /// Sets the bit of every token whose bytes lead from `state` to a state with `distance[end] < limit`.
    /// `words` must be zeroed. Used when the token budget is nearly spent; not cached.
    public func fillCloser(dfa: ByteDFA, state: UInt32, distance: [Int], limit: Int,
                           into words: UnsafeMutableBufferPointer<UInt32>) {
        guard state != ByteDFA.dead, nodes.count > 1 else { return }
        var stack = [UInt32](repeating: 0, count: maxDepth + 1)
        stack[0] = state
        var i = 1
        while i < nodes.count {
            let node = nodes[i]
            let depth = Int(node.depth)
            let next = dfa.next(stack[depth - 1], node.byte)
            if next == ByteDFA.dead {
                i += Int(node.subtreeSize)
                continue
            }
            stack[depth] = next
            if node.token >= 0, distance[Int(next)] < limit {
                let t = Int(node.token)
                words[t >> 5] |= 1 << UInt32(t & 31)
                for id in duplicates[i] ?? [] { words[Int(id) >> 5] |= 1 << UInt32(id & 31) }
            }
            i += 1
        }
    }

    /// Sets the bit of every token whose bytes keep `dfa` alive from `state` (`words` must be zeroed and
    /// cover every token id). Returns the number of trie nodes visited.
    @discardableResult
    public func fillAllowed(dfa: ByteDFA, state: UInt32, into words: UnsafeMutableBufferPointer<UInt32>) -> Int {
        guard state != ByteDFA.dead, nodes.count > 1 else { return 0 }
        var stack = [UInt32](repeating: 0, count: maxDepth + 1)
        var visited = 0
        nodes.withUnsafeBufferPointer { nodes in
            dfa.table.withUnsafeBufferPointer { table in
                stack.withUnsafeMutableBufferPointer { stack in
                    stack[0] = state
                    var i = 1
                    let n = nodes.count
                    while i < n {
                        let node = nodes[i]
                        let depth = Int(node.depth)
                        let next = table[Int(stack[depth &- 1]) &<< 8 | Int(node.byte)]
                        visited &+= 1
                        if next == ByteDFA.dead {
                            i &+= Int(node.subtreeSize)
                            continue
                        }
                        stack[depth] = next
                        if node.token >= 0 {
                            let t = Int(node.token)
                            words[t &>> 5] |= 1 &<< UInt32(t & 31)
                        }
                        i &+= 1
                    }
                }
            }
        }
        if !duplicates.isEmpty {
            for (node, ids) in duplicates {
                let t = Int(nodes[node].token)
                if words[t >> 5] & (1 << UInt32(t & 31)) != 0 {
                    for id in ids { words[Int(id) >> 5] |= 1 << UInt32(id & 31) }
                }
            }
        }
        return visited
    }
}
