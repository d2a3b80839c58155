import Grammar
import JSON
import Testing

@Suite struct RegexCompilerTests {
    /// Every labelled string of every fixture regex: the DFA agrees with Python's `re.fullmatch`.
    @Test func agreesWithPythonFullmatch() throws {
        let fixtures = try GrammarFixtures.load("regex_cases.json")
        let cases = try #require(fixtures["cases"]?.arrayValue)
        #expect(cases.count >= 30)
        var checked = 0
        for c in cases {
            let pattern = try #require(c["pattern"]?.stringValue)
            let dfa = try RegexCompiler.compile(pattern)
            for s in try #require(c["strings"]?.arrayValue) {
                let text = try #require(s["text"]?.stringValue)
                let expected = s["match"] == .bool(true)
                #expect(dfa.matches(text) == expected, "pattern \(pattern) on \(text.debugDescription)")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test func rejectsInvalidPatternsWithPosition() throws {
        let fixtures = try GrammarFixtures.load("regex_cases.json")
        for p in try #require(fixtures["invalid"]?.arrayValue) {
            let pattern = try #require(p.stringValue)
            #expect(throws: GrammarError.self, "\(pattern)") { try RegexCompiler.compile(pattern) }
            do {
                _ = try RegexCompiler.compile(pattern)
            } catch {
                guard case .invalidRegex = error else {
                    Issue.record("\(pattern): expected invalidRegex, got \(error)")
                    continue
                }
            }
        }
        for p in try #require(fixtures["unsupported"]?.arrayValue) {
            let pattern = try #require(p.stringValue)
            do {
                _ = try RegexCompiler.compile(pattern)
                Issue.record("\(pattern) should be rejected")
            } catch {
                guard case .unsupportedRegex = error else {
                    Issue.record("\(pattern): expected unsupportedRegex, got \(error)")
                    continue
                }
            }
        }
        do {
            _ = try RegexCompiler.compile("ab(c")
        } catch {
            #expect(error == .invalidRegex(pattern: "ab(c", position: 2, reason: "missing ), unterminated subpattern"))
        }
    }

    @Test func stateBudget() throws {
        #expect(throws: GrammarError.stateBudgetExceeded(kind: "regex DFA", limit: 50)) {
            try RegexCompiler.compile("[a-z]{0,200}", maxDFAStates: 50)
        }
        #expect(throws: GrammarError.stateBudgetExceeded(kind: "regex NFA", limit: 100)) {
            try RegexCompiler.compile("(abc){100}", maxNFAStates: 100)
        }
    }

    @Test func minimizedSizes() throws {
        // (a|b)*abb has the textbook 4-state minimal DFA (+ dead).
        #expect(try RegexCompiler.compile("(a|b)*abb").stateCount == 5)
        // Equivalent spellings minimize to the same size.
        #expect(try RegexCompiler.compile("a+").stateCount == RegexCompiler.compile("aa*|a").stateCount)
        // An empty class matches nothing: only the dead state.
        let never = try RegexCompiler.compile("[^\\x00-\\U0010FFFF]")
        #expect(never.start == ByteDFA.dead)
        #expect(!never.matches(""))
    }

    @Test func unicodeClassesFollowPython() throws {
        let d = try RegexCompiler.compile("\\d+")
        #expect(d.matches("٣4"))  // ARABIC-INDIC DIGIT THREE is Nd
        #expect(!d.matches("Ⅷ"))  // ROMAN NUMERAL EIGHT is Nl: \w but not \d
        let w = try RegexCompiler.compile("\\w+")
        #expect(w.matches("Ⅷ_ßж中"))
        #expect(!w.matches("a-b"))
        let s = try RegexCompiler.compile("\\s+")
        #expect(s.matches("\u{1C}\u{85}\u{3000} \t"))
        #expect(!s.matches("\u{200B}"))
    }
}
