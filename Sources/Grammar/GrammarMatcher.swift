import Tokenizers

/// One request's position in a compiled grammar: accepts tokens, fills masks, rolls back, and jumps forward.
public struct GrammarMatcher: Sendable {
    /// The shared compiled grammar.
    public let grammar: CompiledGrammar
    /// The current DFA state.
    public private(set) var state: UInt32
    /// The accepted tokens (EOS included once terminated) and the state before each.
    public private(set) var tokens: [Int] = []
    private var statesBefore: [UInt32] = []
    /// Set once EOS was accepted in an accepting state.
    public private(set) var isTerminated = false
    /// How many tokens `rollback` may undo (older history is dropped).
    public let maxRollbackTokens: Int

    /// A matcher at the grammar's start.
    public init(grammar: CompiledGrammar, maxRollbackTokens: Int = 200) {
        self.grammar = grammar
        self.state = grammar.start
        self.maxRollbackTokens = maxRollbackTokens
    }

    /// Whether the text so far is a complete match (EOS would be allowed).
    public var isAccepting: Bool { grammar.isAccepting(state) }

    /// Whether `token` is allowed now.
    public func canAccept(_ token: Int) -> Bool {
        if isTerminated { return false }
        if grammar.index.isEOS(token) { return isAccepting }
        return grammar.next(state, token: token) != ByteDFA.dead
    }

    /// Advances by `token`; returns false (and changes nothing) when the grammar forbids it.
    @discardableResult
    public mutating func accept(_ token: Int) -> Bool {
        guard !isTerminated else { return false }
        let next: UInt32
        if grammar.index.isEOS(token) {
            guard isAccepting else { return false }
            next = state
            isTerminated = true
        } else {
            next = grammar.next(state, token: token)
            guard next != ByteDFA.dead else { return false }
        }
        record(token, before: state)
        state = next
        return true
    }

    private mutating func record(_ token: Int, before: UInt32) {
        tokens.append(token)
        statesBefore.append(before)
        if statesBefore.count > maxRollbackTokens * 2 {
            let drop = statesBefore.count - maxRollbackTokens
            statesBefore.removeFirst(drop)
            tokens.removeFirst(drop)
        }
    }

    /// Undoes the last `count` accepted tokens (at most the kept history).
    public mutating func rollback(_ count: Int) {
        let k = min(count, statesBefore.count)
        guard k > 0 else { return }
        state = statesBefore[statesBefore.count - k]
        statesBefore.removeLast(k)
        tokens.removeLast(k)
        isTerminated = false
    }

    /// Fills the next-token bitmask (see `CompiledGrammar.fillMask`); all zeros once terminated.
    public func fillMask(into words: UnsafeMutableBufferPointer<UInt32>, allowEOS: Bool = true) {
        if isTerminated {
            for i in 0..<min(words.count, grammar.index.maskWords) { words[i] = 0 }
            return
        }
        grammar.fillMask(state: state, into: words, allowEOS: allowEOS)
    }

    /// Fills the next-token bitmask for a request with `remainingTokens` tokens of budget left (EOS
    /// included): near the end only tokens that bring acceptance closer are allowed, so the output still
    /// matches when `max_new_tokens` cuts generation (see `CompiledGrammar.fillMask(state:remainingTokens:)`).
    public func fillMask(into words: UnsafeMutableBufferPointer<UInt32>, remainingTokens: Int, allowEOS: Bool = true) {
        if isTerminated {
            for i in 0..<min(words.count, grammar.index.maskWords) { words[i] = 0 }
            return
        }
        grammar.fillMask(state: state, remainingTokens: remainingTokens, into: words, allowEOS: allowEOS)
    }

    /// The next-token bitmask as a new array.
    public func mask(allowEOS: Bool = true) -> [UInt32] {
        var words = [UInt32](repeating: 0, count: grammar.index.maskWords)
        words.withUnsafeMutableBufferPointer { fillMask(into: $0, allowEOS: allowEOS) }
        return words
    }

    /// The text the grammar forces next (whole UTF-8 characters), empty when the model has a choice.
    public func forcedText() -> String {
        let forced = grammar.forcedBytes(from: state).bytes
        return String(decoding: forced, as: UTF8.self)
    }
}
