import Grammar

/// Finds a request's `stop_regex` patterns in its output text (SGLang HEAD: `re.search` of each pattern on the
/// decoded tail after every token, the first pattern in list order that matches ends the request).
///
/// Each pattern becomes the byte DFA of `[\s\S]*(?:pattern)`, which accepts exactly when a match of the pattern
/// ends at the current byte, so the text is scanned once, a few new bytes per token, instead of searched again.
struct StopRegexMatcher: Sendable {
    /// The patterns as given.
    let patterns: [String]
    private let automata: [ByteDFA]

    /// Compiles every pattern. - Throws: the pattern's `GrammarError` (syntax, or an automaton too large).
    init(_ patterns: [String]) throws(GrammarError) {
        self.patterns = patterns
        var automata: [ByteDFA] = []
        for p in patterns { automata.append(try RegexCompiler.compile(Self.searchPattern(p))) }
        self.automata = automata
    }

    /// The full-match pattern whose matches are the texts that end in a match of `pattern`.
    static func searchPattern(_ pattern: String) -> String { "[\\s\\S]*(?:" + pattern + ")" }

    var isEmpty: Bool { patterns.isEmpty }

    /// Every automaton's start state.
    var startStates: [UInt32] { automata.map(\.start) }

    /// Advances `states` over `bytes`; returns the first pattern (in list order) that matched at some byte.
    func advance(_ states: inout [UInt32], over bytes: ArraySlice<UInt8>) -> Int? {
        var matched: Int?
        for (i, dfa) in automata.enumerated() {
            var s = states[i]
            var hit = false
            for b in bytes {
                s = dfa.next(s, b)
                if dfa.isAccepting(s) { hit = true }
            }
            states[i] = s
            if hit, matched == nil { matched = i }
        }
        return matched
    }
}
