/// A Thompson NFA over bytes, built from a `RegexNode` by compiling every code-point set to UTF-8 ranges.
struct ByteNFA {
    struct Edge {
        var lo: UInt8
        var hi: UInt8
        var to: Int32
    }

    private(set) var edges: [[Edge]] = []
    private(set) var epsilons: [[Int32]] = []
    /// `^` edges: followed only before the first byte.
    private(set) var startAnchorEdges: [[Int32]] = []
    /// `$` edges: followed only after the last byte.
    private(set) var endAnchorEdges: [[Int32]] = []
    private(set) var start: Int32 = 0
    private(set) var final: Int32 = 0
    private let maxStates: Int

    var stateCount: Int { edges.count }

    init(_ node: RegexNode, maxStates: Int) throws(GrammarError) {
        self.maxStates = maxStates
        start = try newState()
        final = try newState()
        try build(node, from: start, to: final)
    }

    private mutating func newState() throws(GrammarError) -> Int32 {
        if edges.count >= maxStates { throw .stateBudgetExceeded(kind: "regex NFA", limit: maxStates) }
        edges.append([])
        epsilons.append([])
        startAnchorEdges.append([])
        endAnchorEdges.append([])
        return Int32(edges.count - 1)
    }

    private mutating func build(_ node: RegexNode, from: Int32, to: Int32) throws(GrammarError) {
        switch node {
        case .empty:
            epsilons[Int(from)].append(to)
        case .startAnchor:
            startAnchorEdges[Int(from)].append(to)
        case .endAnchor:
            endAnchorEdges[Int(from)].append(to)
        case let .set(set):
            try buildSet(set, from: from, to: to)
        case let .concat(items):
            var current = from
            for (i, item) in items.enumerated() {
                let next = i == items.count - 1 ? to : try newState()
                try build(item, from: current, to: next)
                current = next
            }
        case let .alt(branches):
            for branch in branches { try build(branch, from: from, to: to) }
        case let .repetition(inner, min, max):
            var current = from
            for _ in 0..<min {
                let next = try newState()
                try build(inner, from: current, to: next)
                current = next
            }
            if let max {
                // Optional copies, each of which may end the repetition.
                for _ in min..<max {
                    epsilons[Int(current)].append(to)
                    let next = try newState()
                    try build(inner, from: current, to: next)
                    current = next
                }
                epsilons[Int(current)].append(to)
            } else {
                let loop = try newState()
                epsilons[Int(current)].append(loop)
                let back = try newState()
                try build(inner, from: loop, to: back)
                epsilons[Int(back)].append(loop)
                epsilons[Int(loop)].append(to)
            }
        }
    }

    /// One code point from `set`: a byte-range trie of its UTF-8 sequences from `from` to `to`.
    private mutating func buildSet(_ set: ScalarSet, from: Int32, to: Int32) throws(GrammarError) {
        for sequence in set.utf8Sequences() {
            var current = from
            for (i, range) in sequence.ranges.enumerated() {
                let last = i == sequence.ranges.count - 1
                if last {
                    edges[Int(current)].append(Edge(lo: range.lowerBound, hi: range.upperBound, to: to))
                } else if let shared = edges[Int(current)].last(where: { $0.lo == range.lowerBound && $0.hi == range.upperBound }),
                          shared.to != to {
                    // Sequences come sorted, so a shared leading range is the latest edge with that range.
                    current = shared.to
                } else {
                    let next = try newState()
                    edges[Int(current)].append(Edge(lo: range.lowerBound, hi: range.upperBound, to: next))
                    current = next
                }
            }
        }
    }
}
