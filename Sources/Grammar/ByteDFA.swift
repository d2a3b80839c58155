/// A minimized deterministic automaton over UTF-8 bytes.
///
/// State 0 is the dead state (no continuation can reach acceptance); every other state can still reach an
/// accepting state, so "alive" means "some continuation matches". Transitions are a dense table of
/// `stateCount × 256` entries, which keeps the token-trie walk to one load per byte.
public struct ByteDFA: Sendable, CustomStringConvertible {
    /// The dead state.
    public static let dead: UInt32 = 0
    /// The number of states, the dead state included.
    public let stateCount: Int
    /// The initial state (dead when the language is empty).
    public let start: UInt32
    @usableFromInline let table: [UInt32]
    let accepting: [Bool]

    /// The state after reading `byte` in `state`.
    @inlinable public func next(_ state: UInt32, _ byte: UInt8) -> UInt32 {
        table[Int(state) &<< 8 | Int(byte)]
    }

    /// A short summary (the state count); the table is too large to print.
    public var description: String { "ByteDFA(\(stateCount) states)" }

    /// Whether the text read so far is a full match.
    public func isAccepting(_ state: UInt32) -> Bool { accepting[Int(state)] }

    /// The state after reading `bytes` from `state` (dead as soon as a byte kills it).
    public func run<S: Sequence>(_ bytes: S, from state: UInt32) -> UInt32 where S.Element == UInt8 {
        var s = state
        for b in bytes {
            s = next(s, b)
            if s == Self.dead { return s }
        }
        return s
    }

    /// Whether `text` (as UTF-8) is a full match.
    public func matches(_ text: String) -> Bool { isAccepting(run(text.utf8, from: start)) }

    /// The single byte that every continuation from `state` must read next, when there is exactly one live
    /// edge and `state` is not accepting (so stopping here is not an option); nil otherwise.
    public func forcedByte(_ state: UInt32) -> UInt8? {
        if accepting[Int(state)] || state == Self.dead { return nil }
        var found: UInt8?
        let base = Int(state) << 8
        for b in 0..<256 where table[base | b] != Self.dead {
            if found != nil { return nil }
            found = UInt8(b)
        }
        return found
    }

    /// For every state, the fewest bytes that reach an accepting state (0 when accepting, `Int.max` for dead).
    public func distancesToAccept() -> [Int] {
        var reverse = [[Int32]](repeating: [], count: stateCount)
        for s in 1..<max(stateCount, 1) {
            for b in 0..<256 {
                let t = Int(table[s << 8 | b])
                if t != 0 { reverse[t].append(Int32(s)) }
            }
        }
        var distance = [Int](repeating: Int.max, count: stateCount)
        var queue: [Int] = []
        for s in 1..<max(stateCount, 1) where accepting[s] {
            distance[s] = 0
            queue.append(s)
        }
        var head = 0
        while head < queue.count {
            let s = queue[head]
            head += 1
            for p in reverse[s] where distance[Int(p)] == Int.max {
                distance[Int(p)] = distance[s] + 1
                queue.append(Int(p))
            }
        }
        return distance
    }

    /// Builds the DFA from its parts; used by `RegexCompiler`.
    init(stateCount: Int, start: UInt32, table: [UInt32], accepting: [Bool]) {
        self.stateCount = stateCount
        self.start = start
        self.table = table
        self.accepting = accepting
    }
}

/// Compiles regex patterns into minimized byte DFAs.
public enum RegexCompiler {
    /// Default limits: enough for large JSON schemas, small enough to fail fast on blow-ups.
    public static let defaultMaxNFAStates = 2_000_000
    /// Default DFA state budget.
    public static let defaultMaxDFAStates = 200_000

    /// Parses `pattern` (Python `re` syntax, see `RegexParser`) and builds its minimized byte DFA for full
    /// matches (`re.fullmatch` semantics).
    public static func compile(
        _ pattern: String, maxNFAStates: Int = defaultMaxNFAStates, maxDFAStates: Int = defaultMaxDFAStates
    ) throws(GrammarError) -> ByteDFA {
        let node = try RegexParser.parse(pattern)
        let nfa = try ByteNFA(node, maxStates: maxNFAStates)
        let raw = try determinize(nfa, maxStates: maxDFAStates)
        return minimize(raw)
    }

    /// Checks the syntax of `pattern` without building automata.
    public static func validate(_ pattern: String) throws(GrammarError) {
        _ = try RegexParser.parse(pattern)
    }

    // MARK: Subset construction

    struct RawDFA {
        var classCount: Int
        var classOf: [Int]
        /// stateCount × classCount, state 0 = dead.
        var transitions: [Int32]
        var accepting: [Bool]
        var start: Int32
        var stateCount: Int { accepting.count }
    }

    static func determinize(_ nfa: ByteNFA, maxStates: Int) throws(GrammarError) -> RawDFA {
        // Byte equivalence classes: bytes that no edge distinguishes share a class.
        var boundary = [Bool](repeating: false, count: 257)
        boundary[0] = true
        for list in nfa.edges {
            for e in list {
                boundary[Int(e.lo)] = true
                boundary[Int(e.hi) + 1] = true
            }
        }
        var classOf = [Int](repeating: 0, count: 256)
        var classCount = 0
        for b in 0..<256 {
            if boundary[b] && b > 0 { classCount += 1 }
            classOf[b] = classCount
        }
        classCount += 1

        let n = nfa.stateCount
        var mark = [Int32](repeating: -1, count: n)
        var stamp: Int32 = 0
        var stack: [Int32] = []

        func closure(_ seeds: [Int32], atStart: Bool) -> [Int32] {
            stamp &+= 1
            var out: [Int32] = []
            stack.removeAll(keepingCapacity: true)
            for s in seeds where mark[Int(s)] != stamp {
                mark[Int(s)] = stamp
                stack.append(s)
            }
            while let s = stack.popLast() {
                out.append(s)
                for t in nfa.epsilons[Int(s)] where mark[Int(t)] != stamp {
                    mark[Int(t)] = stamp
                    stack.append(t)
                }
                if atStart {
                    for t in nfa.startAnchorEdges[Int(s)] where mark[Int(t)] != stamp {
                        mark[Int(t)] = stamp
                        stack.append(t)
                    }
                }
            }
            out.sort()
            return out
        }

        /// Accepting when the final state is reachable through epsilons and `$` edges (`^` too at the start).
        func isAccepting(_ set: [Int32], atStart: Bool) -> Bool {
            stamp &+= 1
            stack.removeAll(keepingCapacity: true)
            for s in set {
                mark[Int(s)] = stamp
                stack.append(s)
            }
            while let s = stack.popLast() {
                if s == nfa.final { return true }
                var next = nfa.epsilons[Int(s)] + nfa.endAnchorEdges[Int(s)]
                if atStart { next += nfa.startAnchorEdges[Int(s)] }
                for t in next where mark[Int(t)] != stamp {
                    mark[Int(t)] = stamp
                    stack.append(t)
                }
            }
            return false
        }

        var index: [[Int32]: Int32] = [[]: 0]
        var sets: [[Int32]] = [[]]
        var accepting: [Bool] = [false]
        var transitions = [Int32](repeating: 0, count: classCount)
        let startSet = closure([nfa.start], atStart: true)
        index[startSet] = 1
        sets.append(startSet)
        accepting.append(isAccepting(startSet, atStart: true))
        transitions.append(contentsOf: repeatElement(0, count: classCount))

        var buckets = [[Int32]](repeating: [], count: classCount)
        var current = 1
        while current < sets.count {
            for c in 0..<classCount { buckets[c].removeAll(keepingCapacity: true) }
            for s in sets[current] {
                for e in nfa.edges[Int(s)] {
                    for c in classOf[Int(e.lo)]...classOf[Int(e.hi)] { buckets[c].append(e.to) }
                }
            }
            for c in 0..<classCount where !buckets[c].isEmpty {
                let target = closure(buckets[c], atStart: false)
                let id: Int32
                if let existing = index[target] {
                    id = existing
                } else {
                    if sets.count >= maxStates { throw .stateBudgetExceeded(kind: "regex DFA", limit: maxStates) }
                    id = Int32(sets.count)
                    index[target] = id
                    sets.append(target)
                    accepting.append(isAccepting(target, atStart: false))
                    transitions.append(contentsOf: repeatElement(0, count: classCount))
                }
                transitions[current * classCount + c] = id
            }
            current += 1
        }
        return RawDFA(classCount: classCount, classOf: classOf, transitions: transitions, accepting: accepting, start: 1)
    }

    // MARK: Minimization

    /// Drops states that cannot reach acceptance, merges equivalent states (Moore partition refinement) and
    /// numbers the result breadth-first from the start (dead = 0, start = 1 unless the language is empty).
    static func minimize(_ raw: RawDFA) -> ByteDFA {
        let n = raw.stateCount, k = raw.classCount
        // Co-reachability: which states can reach an accepting state.
        var reverse = [[Int32]](repeating: [], count: n)
        for s in 0..<n {
            for c in 0..<k {
                let t = Int(raw.transitions[s * k + c])
                if t != 0 { reverse[t].append(Int32(s)) }
            }
        }
        var live = [Bool](repeating: false, count: n)
        var stack: [Int] = []
        for s in 0..<n where raw.accepting[s] {
            live[s] = true
            stack.append(s)
        }
        while let s = stack.popLast() {
            for p in reverse[s] where !live[Int(p)] {
                live[Int(p)] = true
                stack.append(Int(p))
            }
        }
        live[0] = false

        // Transitions with every useless target redirected to the dead state 0.
        var trans = [Int32](repeating: 0, count: n * k)
        for s in 0..<n where live[s] {
            for c in 0..<k {
                let t = Int(raw.transitions[s * k + c])
                if live[t] { trans[s * k + c] = Int32(t) }
            }
        }
        let block = hopcroft(stateCount: n, classCount: k, transitions: trans, accepting: raw.accepting.enumerated().map { live[$0.offset] && $0.element })
        let blockCount = (block.max().map(Int.init) ?? 0) + 1
        let deadBlock = Int(block[0])

        // Renumber breadth-first from the start; dead = 0.
        var newId = [Int32](repeating: -1, count: blockCount)
        newId[deadBlock] = 0
        var representative: [Int] = [0]
        var order = 1
        let startLive = live[Int(raw.start)]
        var queue: [Int] = []
        if startLive {
            let startBlock = Int(block[Int(raw.start)])
            newId[startBlock] = 1
            representative.append(Int(raw.start))
            queue.append(Int(raw.start))
            order = 2
        }
        var head = 0
        while head < queue.count {
            let s = queue[head]
            head += 1
            for c in 0..<k {
                let t = Int(trans[s * k + c])
                guard t != 0 else { continue }
                let b = Int(block[t])
                if newId[b] < 0 {
                    newId[b] = Int32(order)
                    order += 1
                    representative.append(t)
                    queue.append(t)
                }
            }
        }
        let stateCount = representative.count
        var table = [UInt32](repeating: 0, count: stateCount << 8)
        var accepting = [Bool](repeating: false, count: stateCount)
        for id in 1..<stateCount {
            let s = representative[id]
            accepting[id] = raw.accepting[s]
            for b in 0..<256 {
                let t = Int(trans[s * k + raw.classOf[b]])
                if t != 0 { table[id << 8 | b] = UInt32(newId[Int(block[t])]) }
            }
        }
        return ByteDFA(stateCount: stateCount, start: startLive ? 1 : 0, table: table, accepting: accepting)
    }

    /// Hopcroft's partition refinement (with Valmari-style refinable partitions): the coarsest partition
    /// that respects acceptance and transitions, in O(k·n·log n). Returns each state's block.
    static func hopcroft(stateCount n: Int, classCount k: Int, transitions: [Int32], accepting: [Bool]) -> [Int32] {
        // Predecessors per (class, target), CSR.
        var predStart = [Int32](repeating: 0, count: k * (n + 1) + 1)
        for s in 0..<n { for c in 0..<k { predStart[c * (n + 1) + Int(transitions[s * k + c]) + 1] += 1 } }
        for i in 1..<predStart.count { predStart[i] += predStart[i - 1] }
        var fill = predStart
        var preds = [Int32](repeating: 0, count: n * k)
        for s in 0..<n {
            for c in 0..<k {
                let slot = c * (n + 1) + Int(transitions[s * k + c])
                preds[Int(fill[slot])] = Int32(s)
                fill[slot] += 1
            }
        }
        // Refinable partition: elements grouped by block in `elems`; marked ones first in their block.
        var elems = [Int32](repeating: 0, count: n)
        var loc = [Int32](repeating: 0, count: n)
        var blockOf = [Int32](repeating: 0, count: n)
        var first: [Int32] = [], end: [Int32] = [], markEnd: [Int32] = []
        var pos = 0
        for group in [false, true] {
            let begin = pos
            for s in 0..<n where accepting[s] == group {
                elems[pos] = Int32(s)
                loc[s] = Int32(pos)
                blockOf[s] = Int32(first.count)
                pos += 1
            }
            if pos > begin {
                first.append(Int32(begin))
                end.append(Int32(pos))
                markEnd.append(Int32(begin))
            }
        }
        var inWork = [Bool](repeating: false, count: n * k)
        var work: [(block: Int32, cls: Int32)] = []
        // Seed with the smaller initial block (either works when there is just one).
        let seed: Int32 = first.count == 2 && end[1] - first[1] < end[0] - first[0] ? 1 : 0
        for c in 0..<k {
            work.append((seed, Int32(c)))
            inWork[Int(seed) * k + c] = true
        }
        var splitter: [Int32] = []
        var touched: [Int32] = []
        while let (a, c) = work.popLast() {
            inWork[Int(a) * k + Int(c)] = false
            splitter.removeAll(keepingCapacity: true)
            splitter.append(contentsOf: elems[Int(first[Int(a)])..<Int(end[Int(a)])])
            touched.removeAll(keepingCapacity: true)
            for t in splitter {
                let slot = Int(c) * (n + 1) + Int(t)
                for i in Int(predStart[slot])..<Int(predStart[slot + 1]) {
                    let s = Int(preds[i])
                    let b = Int(blockOf[s])
                    let l = Int(loc[s])
                    guard l >= Int(markEnd[b]) else { continue }  // already marked
                    if markEnd[b] == first[b] { touched.append(Int32(b)) }
                    let m = Int(markEnd[b])
                    let other = elems[m]
                    elems[m] = Int32(s)
                    loc[s] = Int32(m)
                    elems[l] = other
                    loc[Int(other)] = Int32(l)
                    markEnd[b] += 1
                }
            }
            for b32 in touched {
                let b = Int(b32)
                if markEnd[b] == end[b] {
                    markEnd[b] = first[b]
                    continue
                }
                // Split: the marked part becomes a new block.
                let nb = Int32(first.count)
                first.append(first[b])
                end.append(markEnd[b])
                markEnd.append(first[b])
                first[b] = markEnd[b]
                markEnd[b] = first[b]
                for i in Int(first[Int(nb)])..<Int(end[Int(nb)]) { blockOf[Int(elems[i])] = nb }
                let smaller = end[Int(nb)] - first[Int(nb)] <= end[b] - first[b] ? nb : Int32(b)
                if inWork.count < first.count * k { inWork.append(contentsOf: repeatElement(false, count: first.count * k - inWork.count)) }
                for c2 in 0..<k {
                    let pick = inWork[b * k + c2] ? nb : smaller
                    if !inWork[Int(pick) * k + c2] {
                        inWork[Int(pick) * k + c2] = true
                        work.append((pick, Int32(c2)))
                    }
                }
            }
        }
        return blockOf
    }
}
