/// Draws random strings from a DFA's language: a random walk over live bytes that leans toward acceptance
/// (shortest-path steps) so samples stay short, stopping at accepting states at random.
public struct DFASampler: Sendable {
    /// The automaton sampled from.
    public let dfa: ByteDFA
    /// Bytes to the nearest accepting state from each state (Int.max for dead).
    let distance: [Int]

    /// A sampler for `dfa`.
    public init(_ dfa: ByteDFA) {
        self.dfa = dfa
        distance = dfa.distancesToAccept()
    }

    /// One sample, or nil when the language is empty. `greedy` is the chance of a step toward acceptance;
    /// past `softLimit` bytes every step is one.
    public func sample<G: RandomNumberGenerator>(using rng: inout G, stop: Double = 0.3, greedy: Double = 0.3,
                                                 softLimit: Int = 160) -> [UInt8]? {
        var state = dfa.start
        guard state != ByteDFA.dead else { return nil }
        var out: [UInt8] = []
        var live: [UInt8] = []
        var closer: [UInt8] = []
        while true {
            if dfa.isAccepting(state) && (Double.random(in: 0..<1, using: &rng) < stop || out.count >= softLimit) {
                return out
            }
            live.removeAll(keepingCapacity: true)
            closer.removeAll(keepingCapacity: true)
            let d = distance[Int(state)]
            for b in 0..<256 {
                let t = dfa.next(state, UInt8(b))
                guard t != ByteDFA.dead else { continue }
                live.append(UInt8(b))
                if distance[Int(t)] < d { closer.append(UInt8(b)) }
            }
            if live.isEmpty { return out }  // accepting with no continuation
            let useCloser = !closer.isEmpty && (out.count >= softLimit || Double.random(in: 0..<1, using: &rng) < greedy)
            let pool = useCloser ? closer : live
            let b = pool[Int.random(in: 0..<pool.count, using: &rng)]
            out.append(b)
            state = dfa.next(state, b)
        }
    }
}
