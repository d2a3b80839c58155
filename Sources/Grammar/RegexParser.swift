/// A parser for the Python `re` syntax subset that outlines and SGLang accept (str patterns, no flags).
///
/// Supported: literals (any Unicode), escapes (`\n \t \r \f \v \a \0 \ooo \xhh \uhhhh \Uhhhhhhhh`, escaped
/// punctuation), classes with ranges and negation, `\d \w \s \D \W \S` with Python's Unicode semantics (see
/// `ScalarSet.pythonDigit` etc.), `.` (all but `\n`), quantifiers `* + ? {m} {m,} {,n} {m,n}` and their lazy
/// forms, alternation, groups `(...)`, `(?:...)`, `(?P<name>...)`, comments `(?#...)`, and the anchors
/// `^ $ \A \Z`. Backreferences, lookaround, word boundaries, possessive quantifiers and inline flags are
/// rejected with `GrammarError.unsupportedRegex`, because they are not regular or change the language.
struct RegexParser {
    private let pattern: String
    private let chars: [UInt32]
    private var pos = 0

    init(_ pattern: String) {
        self.pattern = pattern
        chars = pattern.unicodeScalars.map(\.value)
    }

    static func parse(_ pattern: String) throws(GrammarError) -> RegexNode {
        var parser = RegexParser(pattern)
        let node = try parser.parseAlternation()
        if parser.pos < parser.chars.count {
            // Only an unmatched ')' stops the top-level alternation early.
            throw parser.invalid("unbalanced parenthesis")
        }
        return node
    }

    // MARK: Errors

    private func invalid(_ reason: String, at position: Int? = nil) -> GrammarError {
        .invalidRegex(pattern: pattern, position: position ?? pos, reason: reason)
    }

    private func unsupported(_ feature: String, at position: Int) -> GrammarError {
        .unsupportedRegex(pattern: pattern, position: position, feature: feature)
    }

    // MARK: Grammar

    private var atEnd: Bool { pos >= chars.count }
    private func peek(_ offset: Int = 0) -> UInt32? { pos + offset < chars.count ? chars[pos + offset] : nil }
    private static func ch(_ s: Unicode.Scalar) -> UInt32 { s.value }

    private mutating func parseAlternation() throws(GrammarError) -> RegexNode {
        var branches = [try parseConcatenation()]
        while peek() == Self.ch("|") {
            pos += 1
            branches.append(try parseConcatenation())
        }
        return branches.count == 1 ? branches[0] : .alt(branches)
    }

    private mutating func parseConcatenation() throws(GrammarError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(), c != Self.ch("|"), c != Self.ch(")") {
            let atomStart = pos
            guard var atom = try parseAtom() else { continue }
            var quantified = false
            while let q = try parseQuantifier() {
                if quantified { throw invalid("multiple repeat", at: q.position) }
                if case .startAnchor = atom { throw invalid("nothing to repeat", at: atomStart) }
                if case .endAnchor = atom { throw invalid("nothing to repeat", at: atomStart) }
                atom = .repetition(atom, min: q.min, max: q.max)
                quantified = true
            }
            items.append(atom)
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    /// Parses one atom; nil for constructs that match nothing (comments).
    private mutating func parseAtom() throws(GrammarError) -> RegexNode? {
        guard let c = peek() else { throw invalid("unexpected end of pattern") }
        let start = pos
        switch c {
        case Self.ch("("):
            pos += 1
            if peek() == Self.ch("?") {
                pos += 1
                guard let k = peek() else { throw invalid("unexpected end of pattern") }
                switch k {
                case Self.ch(":"):
                    pos += 1
                case Self.ch("P"):
                    pos += 1
                    if peek() == Self.ch("<") {
                        pos += 1
                        let nameStart = pos
                        while let n = peek(), n != Self.ch(">") { pos += 1 }
                        guard !atEnd else { throw invalid("missing >, unterminated name", at: nameStart) }
                        if pos == nameStart { throw invalid("missing group name", at: nameStart) }
                        pos += 1
                    } else if peek() == Self.ch("=") {
                        throw unsupported("named backreference (?P=...)", at: start)
                    } else {
                        throw invalid("unknown extension ?P", at: start)
                    }
                case Self.ch("#"):
                    while let n = peek(), n != Self.ch(")") { pos += 1 }
                    guard !atEnd else { throw invalid("missing ), unterminated comment", at: start) }
                    pos += 1
                    return nil
                case Self.ch("="), Self.ch("!"):
                    throw unsupported("lookahead assertion", at: start)
                case Self.ch("<"):
                    throw unsupported("lookbehind assertion", at: start)
                case Self.ch(">"):
                    throw unsupported("atomic group", at: start)
                case Self.ch("("):
                    throw unsupported("conditional group", at: start)
                default:
                    throw unsupported("inline flags", at: start)
                }
            }
            let inner = try parseAlternation()
            guard peek() == Self.ch(")") else { throw invalid("missing ), unterminated subpattern", at: start) }
            pos += 1
            return inner
        case Self.ch("["):
            return .set(try parseClass())
        case Self.ch("."):
            pos += 1
            return .set(.dot)
        case Self.ch("^"):
            pos += 1
            return .startAnchor
        case Self.ch("$"):
            pos += 1
            return .endAnchor
        case Self.ch("\\"):
            return try parseEscape(inClass: false).node
        case Self.ch("*"), Self.ch("+"), Self.ch("?"):
            throw invalid("nothing to repeat")
        case Self.ch("{"):
            var probe = self
            if (try? probe.parseQuantifier()) ?? nil != nil { throw invalid("nothing to repeat") }
            pos += 1
            return .set(ScalarSet(scalar: c))
        default:
            pos += 1
            return .set(ScalarSet(scalar: c))
        }
    }

    private struct Quantifier { var min: Int; var max: Int?; var position: Int }

    /// Parses a quantifier if one follows; a `{` that is not a valid repeat is left as a literal.
    private mutating func parseQuantifier() throws(GrammarError) -> Quantifier? {
        guard let c = peek() else { return nil }
        let start = pos
        var q: Quantifier
        switch c {
        case Self.ch("*"): pos += 1; q = Quantifier(min: 0, max: nil, position: start)
        case Self.ch("+"): pos += 1; q = Quantifier(min: 1, max: nil, position: start)
        case Self.ch("?"): pos += 1; q = Quantifier(min: 0, max: 1, position: start)
        case Self.ch("{"):
            var i = pos + 1
            func number(_ i: inout Int) -> Int? {
                var value = 0, digits = 0
                while i < chars.count, chars[i] >= 0x30, chars[i] <= 0x39 {
                    value = min(value * 10 + Int(chars[i] - 0x30), Int(Int32.max))
                    digits += 1
                    i += 1
                }
                return digits > 0 ? value : nil
            }
            let lo = number(&i)
            var hi: Int?
            if i < chars.count, chars[i] == Self.ch(",") {
                i += 1
                hi = number(&i)
            } else {
                guard let lo else { return nil }  // `{}` is a literal in Python
                hi = lo
            }
            guard i < chars.count, chars[i] == Self.ch("}") else { return nil }
            pos = i + 1
            if let lo, let hi, lo > hi { throw invalid("min repeat greater than max repeat", at: start) }
            q = Quantifier(min: lo ?? 0, max: hi, position: start)
        default:
            return nil
        }
        if peek() == Self.ch("?") {
            pos += 1  // lazy: same language under full match
        } else if peek() == Self.ch("+") {
            throw unsupported("possessive quantifier", at: pos)
        }
        return q
    }

    private mutating func parseClass() throws(GrammarError) -> ScalarSet {
        let start = pos
        pos += 1
        var negated = false
        if peek() == Self.ch("^") {
            negated = true
            pos += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var set = ScalarSet()
        var first = true
        while true {
            guard let c = peek() else { throw invalid("unterminated character set", at: start) }
            if c == Self.ch("]") && !first {
                pos += 1
                break
            }
            first = false
            let itemStart = pos
            let lo: UInt32
            if c == Self.ch("\\") {
                let escaped = try parseEscape(inClass: true)
                if let scalar = escaped.scalar {
                    lo = scalar
                } else {
                    if peek() == Self.ch("-"), let after = peek(1), after != Self.ch("]") {
                        throw invalid("bad character range", at: itemStart)
                    }
                    if case let .set(s) = escaped.node { set = set.union(s) }
                    continue
                }
            } else {
                pos += 1
                lo = c
            }
            if peek() == Self.ch("-"), let after = peek(1), after != Self.ch("]") {
                pos += 1
                let hi: UInt32
                if after == Self.ch("\\") {
                    let escaped = try parseEscape(inClass: true)
                    guard let scalar = escaped.scalar else { throw invalid("bad character range", at: itemStart) }
                    hi = scalar
                } else {
                    pos += 1
                    hi = after
                }
                if hi < lo { throw invalid("bad character range", at: itemStart) }
                ranges.append(lo...hi)
            } else {
                ranges.append(lo...lo)
            }
        }
        let result = set.union(ScalarSet(ranges))
        return negated ? result.inverted() : result
    }

    private struct Escaped { var node: RegexNode; var scalar: UInt32? }

    private mutating func parseEscape(inClass: Bool) throws(GrammarError) -> Escaped {
        let start = pos
        pos += 1
        guard let c = peek() else { throw invalid("bad escape (end of pattern)", at: start) }
        pos += 1
        func literal(_ v: UInt32) -> Escaped { Escaped(node: .set(ScalarSet(scalar: v)), scalar: v) }
        func hex(_ count: Int) throws(GrammarError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let d = peek(), let digit = Self.hexValue(d) else {
                    throw invalid("incomplete escape \\\(Unicode.Scalar(c).map { String($0) } ?? "")", at: start)
                }
                value = value * 16 + digit
                pos += 1
            }
            return value
        }
        switch c {
        case Self.ch("d"): return Escaped(node: .set(.pythonDigit), scalar: nil)
        case Self.ch("D"): return Escaped(node: .set(ScalarSet.pythonDigit.inverted()), scalar: nil)
        case Self.ch("w"): return Escaped(node: .set(.pythonWord), scalar: nil)
        case Self.ch("W"): return Escaped(node: .set(ScalarSet.pythonWord.inverted()), scalar: nil)
        case Self.ch("s"): return Escaped(node: .set(.pythonSpace), scalar: nil)
        case Self.ch("S"): return Escaped(node: .set(ScalarSet.pythonSpace.inverted()), scalar: nil)
        case Self.ch("n"): return literal(0x0A)
        case Self.ch("t"): return literal(0x09)
        case Self.ch("r"): return literal(0x0D)
        case Self.ch("f"): return literal(0x0C)
        case Self.ch("v"): return literal(0x0B)
        case Self.ch("a"): return literal(0x07)
        case Self.ch("x"): return literal(try hex(2))
        case Self.ch("u"): return literal(try hex(4))
        case Self.ch("U"):
            let v = try hex(8)
            guard v <= ScalarSet.maxCodePoint else { throw invalid("bad escape \\U", at: start) }
            return literal(v)
        case Self.ch("0"):
            var value: UInt32 = 0
            var n = 0
            while n < 2, let d = peek(), d >= 0x30, d <= 0x37 {
                value = value * 8 + (d - 0x30)
                pos += 1
                n += 1
            }
            return literal(value)
        case 0x31...0x39:
            // Python: three octal digits form an octal escape; otherwise a backreference (or, in a class, an error).
            if c <= 0x37, let d1 = peek(), let d2 = peek(1), (0x30...0x37).contains(d1), (0x30...0x37).contains(d2) {
                pos += 2
                let value = (c - 0x30) * 64 + (d1 - 0x30) * 8 + (d2 - 0x30)
                guard value <= 0o377 else { throw invalid("octal escape value outside of range 0-0o377", at: start) }
                return literal(value)
            }
            if inClass { throw invalid("bad escape \\\(c - 0x30)", at: start) }
            throw unsupported("backreference", at: start)
        case Self.ch("b"):
            if inClass { return literal(0x08) }
            throw unsupported("word boundary \\b", at: start)
        case Self.ch("B"):
            if inClass { throw invalid("bad escape \\B", at: start) }
            throw unsupported("word boundary \\B", at: start)
        case Self.ch("A"):
            if inClass { throw invalid("bad escape \\A", at: start) }
            return Escaped(node: .startAnchor, scalar: nil)
        case Self.ch("Z"):
            if inClass { throw invalid("bad escape \\Z", at: start) }
            return Escaped(node: .endAnchor, scalar: nil)
        case Self.ch("N"):
            throw unsupported("named character escape \\N{...}", at: start)
        default:
            if (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) {
                throw invalid("bad escape \\\(Unicode.Scalar(c).map { String($0) } ?? "")", at: start)
            }
            return literal(c)
        }
    }

    private static func hexValue(_ c: UInt32) -> UInt32? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
