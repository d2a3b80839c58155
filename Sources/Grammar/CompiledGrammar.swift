import Synchronization

/// A grammar compiled for one tokenizer: its byte DFA plus a lazily filled, thread-safe per-state mask cache.
/// Shared by every request that uses the same grammar (see `GrammarCompiler`).
public final class CompiledGrammar: Sendable {
    /// The grammar's minimized byte DFA.
    public let dfa: ByteDFA
    /// The tokenizer's token table and trie.
    public let index: TokenIndex
    /// Cached allowed-token masks (EOS bits not included), one per DFA state once visited.
    private let cache: Mutex<[[UInt32]?]>
    /// Fewest bytes from each state to acceptance.
    public let distanceToAccept: [Int]
    /// Tokens needed to reach acceptance from each state along the shortest byte path, taking the longest
    /// token each time: an upper bound on the fewest tokens, realized by an actual token path (Int.max when
    /// the vocabulary cannot spell the path).
    public let tokenDistance: [Int]
    /// The largest finite token distance: budgets above it never restrict the mask.
    public let maxDistance: Int

    /// Prepares `dfa` for masking over `index` (computes distances to acceptance; masks fill lazily).
    public init(dfa: ByteDFA, index: TokenIndex) {
        self.dfa = dfa
        self.index = index
        cache = Mutex([[UInt32]?](repeating: nil, count: dfa.stateCount))
        let distance = dfa.distancesToAccept()
        distanceToAccept = distance
        let tokens = Self.tokenDistances(dfa: dfa, distance: distance, trie: index.trie)
        tokenDistance = tokens
        maxDistance = tokens.lazy.filter { $0 != Int.max }.max() ?? 0
    }

    /// `tokenDistance` by dynamic programming in order of byte distance: from each state, the shortest
    /// completion (smallest byte at each step), the longest token spelling a prefix of it, then the state
    /// after that token (closer, so already known).
    static func tokenDistances(dfa: ByteDFA, distance: [Int], trie: TokenTrie) -> [Int] {
        let n = dfa.stateCount
        var nextByte = [Int16](repeating: -1, count: n)
        for s in 1..<max(n, 1) where distance[s] != Int.max && distance[s] > 0 {
            for b in 0..<256 {
                let t = Int(dfa.next(UInt32(s), UInt8(b)))
                if t != 0 && distance[t] == distance[s] - 1 {
                    nextByte[s] = Int16(b)
                    break
                }
            }
        }
        var result = [Int](repeating: Int.max, count: n)
        let order = (0..<n).filter { distance[$0] != Int.max }.sorted { distance[$0] < distance[$1] }
        var path: [UInt8] = []
        var states: [UInt32] = []
        for s in order {
            if distance[s] == 0 {
                result[s] = 0
                continue
            }
            path.removeAll(keepingCapacity: true)
            states.removeAll(keepingCapacity: true)
            var cur = UInt32(s)
            while distance[Int(cur)] > 0 && path.count < trie.maxDepth, nextByte[Int(cur)] >= 0 {
                let b = UInt8(nextByte[Int(cur)])
                path.append(b)
                cur = dfa.next(cur, b)
                states.append(cur)
            }
            let length = trie.longestTokenPrefix(path)
            guard length > 0 else { continue }
            let after = result[Int(states[length - 1])]
            if after != Int.max { result[s] = after + 1 }
        }
        return result
    }

    /// The initial state.
    public var start: UInt32 { dfa.start }

    /// The state after `token` from `state`; dead when the token is not allowed there. EOS ids are not
    /// grammar bytes: use `isAccepting` for them.
    public func next(_ state: UInt32, token: Int) -> UInt32 {
        guard token >= 0, token < index.vocabulary.size, let bytes = index.vocabulary.tokenBytes[token] else {
            return ByteDFA.dead
        }
        return dfa.run(bytes, from: state)
    }

    /// Whether `state` is a full match (EOS allowed).
    public func isAccepting(_ state: UInt32) -> Bool { dfa.isAccepting(state) }

    /// Whether `state` has been masked before (its mask is served from the cache).
    public func isCached(_ state: UInt32) -> Bool {
        cache.withLock { Int(state) < $0.count && $0[Int(state)] != nil }
    }

    /// Writes the allowed-token bitmask of `state` into `words` (at least `index.maskWords` words; bit i of
    /// word w is token 32w + i). EOS is allowed only when the state accepts and `allowEOS` is true (pass
    /// false while `min_new_tokens` is not reached).
    public func fillMask(state: UInt32, into words: UnsafeMutableBufferPointer<UInt32>, allowEOS: Bool = true) {
        let n = index.maskWords
        guard words.count >= n else { return }
        if let cached = cache.withLock({ $0[Int(state)] }) {
            cached.withUnsafeBufferPointer { src in
                _ = UnsafeMutableBufferPointer(rebasing: words[0..<n]).update(fromContentsOf: src)
            }
        } else {
            var mask = [UInt32](repeating: 0, count: n)
            mask.withUnsafeMutableBufferPointer { _ = index.trie.fillAllowed(dfa: dfa, state: state, into: $0) }
            mask.withUnsafeBufferPointer { src in
                _ = UnsafeMutableBufferPointer(rebasing: words[0..<n]).update(fromContentsOf: src)
            }
            cache.withLock { $0[Int(state)] = mask }
        }
        if allowEOS && dfa.isAccepting(state) {
            for eos in index.vocabulary.eosTokenIds { words[eos >> 5] |= 1 << UInt32(eos & 31) }
        }
    }

    /// A mask that keeps the match finishable within `remainingTokens` tokens (the last being EOS): a token
    /// is allowed only if the state it leads to has `tokenDistance ≤ remainingTokens - 2` (an actual token
    /// path of that length exists, so the match can always end in time). When even the current state is too
    /// far, tokens that bring acceptance strictly closer are allowed (best effort). EOS is allowed in accepting states. While the budget exceeds the
    /// grammar's largest distance this is the normal cached mask. Returns whether the budget restricted it.
    @discardableResult
    public func fillMask(state: UInt32, remainingTokens: Int, into words: UnsafeMutableBufferPointer<UInt32>,
                         allowEOS: Bool = true) -> Bool {
        let distance = state == ByteDFA.dead ? Int.max : tokenDistance[Int(state)]
        let limit = max(remainingTokens - 1, distance)
        guard distance != Int.max, maxDistance >= limit else {
            fillMask(state: state, into: words, allowEOS: allowEOS)
            return false
        }
        let n = min(words.count, index.maskWords)
        for i in 0..<n { words[i] = 0 }
        index.trie.fillCloser(dfa: dfa, state: state, distance: tokenDistance, limit: limit, into: words)
        if dfa.isAccepting(state) && (allowEOS || remainingTokens <= 1) {
            for eos in index.vocabulary.eosTokenIds { words[eos >> 5] |= 1 << UInt32(eos & 31) }
        }
        return true
    }

    /// The mask of `state` as a new array.
    public func mask(state: UInt32, allowEOS: Bool = true) -> [UInt32] {
        var words = [UInt32](repeating: 0, count: index.maskWords)
        words.withUnsafeMutableBufferPointer { fillMask(state: state, into: $0, allowEOS: allowEOS) }
        return words
    }

    /// The bytes every continuation from `state` must start with (SGLang's compressed-FSM jump-forward):
    /// follows single-successor, non-accepting states; trimmed to whole UTF-8 characters. Returns the bytes
    /// and the state after them.
    public func forcedBytes(from state: UInt32, limit: Int = 4096) -> (bytes: [UInt8], state: UInt32) {
        var bytes: [UInt8] = []
        var states: [UInt32] = [state]
        var s = state
        while bytes.count < limit, let b = dfa.forcedByte(s) {
            bytes.append(b)
            s = dfa.next(s, b)
            states.append(s)
        }
        // Drop a trailing partial UTF-8 character: the model chooses how to finish it.
        var end = bytes.count
        var i = bytes.count - 1
        while i >= 0 && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        if i >= 0 {
            let lead = bytes[i]
            let need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if bytes.count - i < need { end = i }
        }
        return (Array(bytes[0..<end]), states[end])
    }
}
