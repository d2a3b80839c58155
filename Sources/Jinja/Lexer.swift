/// One lexical token with the position where it starts.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// Literal template text between tags, after whitespace control.
        case data(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }

    let kind: Kind
    let location: TemplateLocation
}

/// Splits template source into tokens exactly as jinja2's lexer does with `trim_blocks=True`,
/// `lstrip_blocks=True` and `keep_trailing_newline=False`.
struct Lexer {
    private let src: [Unicode.Scalar]
    private var lineStarts: [Int] = [0]
    private var tokens: [Token] = []
    private var pos = 0
    /// jinja2's `line_starting`: the previous match ended with a newline (or nothing was read yet).
    private var lineStarting = true

    static let maxSourceLength = 4 << 20

    init(_ source: String) {
        // jinja2 splits on \r\n, \r and \n, rejoins with \n and drops one trailing newline.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.utf8.count)
        var previousCR = false
        for u in source.unicodeScalars {
            if u == "\r" {
                scalars.append("\n")
                previousCR = true
                continue
            }
            if u == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            scalars.append(u)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        src = scalars
        for (i, u) in src.enumerated() where u == "\n" { lineStarts.append(i + 1) }
    }

    func location(_ offset: Int) -> TemplateLocation {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return TemplateLocation(line: lo + 1, column: offset - lineStarts[lo] + 1)
    }

    private func fail(_ message: String, at offset: Int) -> JinjaError {
        .syntax(message, location(offset))
    }

    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = Lexer(source)
        guard lexer.src.count <= maxSourceLength else {
            throw JinjaError.limitExceeded("template source is longer than \(maxSourceLength) characters", nil)
        }
        try lexer.run()
        return lexer.tokens
    }

    // MARK: - Root state

    private mutating func run() throws {
        let n = src.count
        while pos < n {
            guard let start = nextTagStart(from: pos) else {
                emitData(pos, n)
                pos = n
                break
            }
            let kind = src[start + 1]
            var q = start + 2
            var sign: Unicode.Scalar? = nil
            if q < n, src[q] == "-" || src[q] == "+" {
                sign = src[q]
                q += 1
            }
            let rawEnd = kind == "%" ? matchRawBegin(q) : nil
            // Whitespace control on the text before the tag.
            var textEnd = start
            if sign == "-" {
                while textEnd > pos, Python.isSpace(src[textEnd - 1]) { textEnd -= 1 }
            } else if sign != "+" && kind != "{" {
                textEnd = lstrip(pos, start)
            }
            emitData(pos, textEnd)
            lineStarting = false
            if let rawEnd {
                pos = rawEnd
                lineStarting = src[rawEnd - 1] == "\n"
                try lexRawBody(start)
                continue
            }
            switch kind {
            case "#":
                try lexComment(from: q, tagStart: start)
            case "%":
                append(.blockBegin, start)
                pos = q
                try lexTag(block: true, tagStart: start)
            default:
                append(.variableBegin, start)
                pos = q
                try lexTag(block: false, tagStart: start)
            }
        }
        append(.eof, n)
    }

    private func nextTagStart(from p: Int) -> Int? {
        var i = p
        let n = src.count
        while i + 1 < n {
            if src[i] == "{" {
                let c = src[i + 1]
                if c == "{" || c == "%" || c == "#" { return i }
            }
            i += 1
        }
        return nil
    }

    /// `lstrip_blocks`: drop spaces between the last line start and a block/comment tag.
    private func lstrip(_ from: Int, _ to: Int) -> Int {
        var lineStart = to
        while lineStart > from, src[lineStart - 1] != "\n" { lineStart -= 1 }
        guard lineStart > from || lineStarting, lineStart < to else { return to }
        for i in lineStart..<to where !Python.isSpace(src[i]) { return to }
        return lineStart
    }

    private mutating func emitData(_ from: Int, _ to: Int) {
        guard from < to else { return }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: src[from..<to])
        append(.data(String(s)), from)
    }

    private mutating func append(_ kind: Token.Kind, _ offset: Int) {
        tokens.append(Token(kind: kind, location: location(offset)))
    }

    private func hasPrefix(_ s: String, at i: Int) -> Bool {
        var j = i
        for u in s.unicodeScalars {
            guard j < src.count, src[j] == u else { return false }
            j += 1
        }
        return true
    }

    private func skipSpaces(_ i: Int) -> Int {
        var j = i
        while j < src.count, Python.isSpace(src[j]) { j += 1 }
        return j
    }

    /// Matches `\s*raw\s*(-%}\s*|%})` after `{%` and its sign; returns the end offset.
    private func matchRawBegin(_ q: Int) -> Int? {
        var i = skipSpaces(q)
        guard hasPrefix("raw", at: i) else { return nil }
        i = skipSpaces(i + 3)
        if hasPrefix("-%}", at: i) { return skipSpaces(i + 3) }
        if hasPrefix("%}", at: i) { return i + 2 }
        return nil
    }

    /// Matches the end of a block-like tag at `i` (`+%}`, `-%}\s*`, `%}\n?`); returns its end.
    private func matchBlockEnd(_ i: Int, marker: String) -> Int? {
        if hasPrefix("+" + marker, at: i) { return i + 3 }
        if hasPrefix("-" + marker, at: i) { return skipSpaces(i + 3) }
        if hasPrefix(marker, at: i) {
            let e = i + 2
            return e < src.count && src[e] == "\n" ? e + 1 : e
        }
        return nil
    }

    private mutating func lexRawBody(_ tagStart: Int) throws {
        var i = pos
        while i < src.count {
            if src[i] == "{", i + 1 < src.count, src[i + 1] == "%" {
                var q = i + 2
                var sign: Unicode.Scalar? = nil
                if q < src.count, src[q] == "-" || src[q] == "+" {
                    sign = src[q]
                    q += 1
                }
                q = skipSpaces(q)
                if hasPrefix("endraw", at: q), let end = matchBlockEnd(skipSpaces(q + 6), marker: "%}") {
                    var textEnd = i
                    if sign == "-" {
                        while textEnd > pos, Python.isSpace(src[textEnd - 1]) { textEnd -= 1 }
                    } else if sign != "+" {
                        textEnd = lstrip(pos, i)
                    }
                    emitData(pos, textEnd)
                    pos = end
                    lineStarting = src[end - 1] == "\n"
                    return
                }
            }
            i += 1
        }
        throw fail("Missing end of raw directive", at: tagStart)
    }

    private mutating func lexComment(from q: Int, tagStart: Int) throws {
        var i = q
        while i < src.count {
            if let end = matchBlockEnd(i, marker: "#}") {
                pos = end
                lineStarting = src[end - 1] == "\n"
                return
            }
            i += 1
        }
        throw fail("Missing end of comment tag", at: tagStart)
    }

    // MARK: - Inside {{ }} and {% %}

    private mutating func lexTag(block: Bool, tagStart: Int) throws {
        var balance: [Unicode.Scalar] = []
        let n = src.count
        while true {
            if balance.isEmpty {
                if block, let end = matchBlockEnd(pos, marker: "%}") {
                    append(.blockEnd, pos)
                    pos = end
                    lineStarting = src[end - 1] == "\n"
                    return
                }
                if !block {
                    if hasPrefix("-}}", at: pos) {
                        append(.variableEnd, pos)
                        pos = skipSpaces(pos + 3)
                        lineStarting = src[pos - 1] == "\n"
                        return
                    }
                    if hasPrefix("}}", at: pos) {
                        append(.variableEnd, pos)
                        pos += 2
                        lineStarting = false
                        return
                    }
                }
            }
            guard pos < n else {
                throw fail(
                    "unexpected end of template, expected '\(block ? "end of statement block" : "end of print statement")'",
                    at: tagStart)
            }
            let c = src[pos]
            if Python.isSpace(c) {
                pos = skipSpaces(pos)
                continue
            }
            if isDigit(c) {
                try lexNumber()
                continue
            }
            if c == "_" || c.properties.isAlphabetic {
                let start = pos
                while pos < n, src[pos] == "_" || src[pos].properties.isAlphabetic || isDigit(src[pos]) {
                    pos += 1
                }
                var s = String.UnicodeScalarView()
                s.append(contentsOf: src[start..<pos])
                append(.name(String(s)), start)
                continue
            }
            if c == "'" || c == "\"" {
                try lexString(quote: c)
                continue
            }
            let start = pos
            var op: String? = nil
            for two in ["//", "**", "==", "!=", ">=", "<="] where hasPrefix(two, at: pos) {
                op = two
                break
            }
            if op == nil, "+-/*%~[](){}><=.:|,;".unicodeScalars.contains(c) { op = String(c) }
            guard let op else { throw fail("unexpected char '\(Character(c))' at \(pos)", at: pos) }
            switch op {
            case "(": balance.append(")")
            case "[": balance.append("]")
            case "{": balance.append("}")
            case ")", "]", "}":
                guard let expected = balance.popLast() else { throw fail("unexpected '\(op)'", at: pos) }
                if String(expected) != op {
                    throw fail("unexpected '\(op)', expected '\(Character(expected))'", at: pos)
                }
            default: break
            }
            pos += op.unicodeScalars.count
            append(.op(op), start)
        }
    }

    private func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }

    /// Digits with optional single underscores between them: `(\d+_)*\d+`.
    private func scanDigits(_ i: Int, _ accept: (Unicode.Scalar) -> Bool) -> Int {
        var j = i
        guard j < src.count, accept(src[j]) else { return i }
        while j < src.count {
            if accept(src[j]) {
                j += 1
            } else if src[j] == "_", j + 1 < src.count, accept(src[j + 1]) {
                j += 1
            } else {
                break
            }
        }
        return j
    }

    private func text(_ from: Int, _ to: Int) -> String {
        var s = String.UnicodeScalarView()
        for u in src[from..<to] where u != "_" { s.append(u) }
        return String(s)
    }

    private mutating func lexNumber() throws {
        let start = pos
        // 0b / 0o / 0x integers.
        if src[pos] == "0", pos + 2 < src.count {
            let p = Character(src[pos + 1]).lowercased()
            let radix = p == "b" ? 2 : (p == "o" ? 8 : (p == "x" ? 16 : 0))
            if radix != 0 {
                let digits = scanDigits(pos + 2) { Int(String($0), radix: radix) != nil }
                if digits > pos + 2 {
                    guard let v = Int(text(pos + 2, digits), radix: radix) else {
                        throw fail("integer literal too large", at: start)
                    }
                    pos = digits
                    append(.integer(v), start)
                    return
                }
            }
        }
        let intEnd = scanDigits(pos, isDigit)
        var end = intEnd
        var isFloat = false
        let afterDot = start > 0 && src[start - 1] == "."
        if !afterDot {
            if end < src.count, src[end] == ".", end + 1 < src.count, isDigit(src[end + 1]) {
                end = scanDigits(end + 1, isDigit)
                isFloat = true
            }
            if end < src.count, src[end] == "e" || src[end] == "E" {
                var e = end + 1
                if e < src.count, src[e] == "+" || src[e] == "-" { e += 1 }
                let digits = scanDigits(e, isDigit)
                if digits > e {
                    end = digits
                    isFloat = true
                }
            }
        }
        pos = isFloat ? end : intEnd
        if isFloat {
            guard let d = Double(text(start, end)) else { throw fail("invalid float literal", at: start) }
            append(.float(d), start)
        } else {
            guard let v = Int(text(start, intEnd)) else { throw fail("integer literal too large", at: start) }
            append(.integer(v), start)
        }
    }

    /// A quoted string, decoded like Python's `unicode-escape` codec (which jinja2 uses).
    private mutating func lexString(quote: Unicode.Scalar) throws {
        let start = pos
        var i = pos + 1
        var out = String.UnicodeScalarView()
        while true {
            guard i < src.count else { throw fail("unexpected char '\(Character(quote))' at \(start)", at: start) }
            let c = src[i]
            if c == quote { break }
            if c != "\\" {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < src.count else { throw fail("unexpected char '\(Character(quote))' at \(start)", at: start) }
            let e = src[i + 1]
            i += 2
            switch e {
            case "\n": break
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var v = e.value - 48
                var k = 0
                while k < 2, i < src.count, src[i].value >= 48, src[i].value <= 55 {
                    v = v * 8 + src[i].value - 48
                    i += 1
                    k += 1
                }
                guard let u = Unicode.Scalar(v) else { throw fail("invalid octal escape", at: i) }
                out.append(u)
            case "x", "u", "U":
                let width = e == "x" ? 2 : (e == "u" ? 4 : 8)
                guard i + width <= src.count,
                    let v = UInt32(String(String.UnicodeScalarView(src[i..<(i + width)])), radix: 16),
                    src[i..<(i + width)].allSatisfy({ $0.properties.isASCIIHexDigit })
                else {
                    throw fail("truncated \\\(Character(e)) escape in string literal", at: i - 2)
                }
                guard let u = Unicode.Scalar(v) else { throw fail("invalid \\\(Character(e)) escape: illegal code point", at: i - 2) }
                out.append(u)
                i += width
            default:
                out.append("\\")
                out.append(e)
            }
        }
        pos = i + 1
        append(.string(String(out)), start)
    }
}
