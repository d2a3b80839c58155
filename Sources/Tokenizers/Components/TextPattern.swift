import JSON

/// One piece of a text partition: a UTF-8 byte range and whether it matched the pattern.
struct PatternSpan: Sendable, Equatable {
    var start: Int
    var end: Int
    var isMatch: Bool
}

/// The `pattern` of Split / Replace components: `{"String": literal}` or `{"Regex": pattern}`.
/// Regexes match Unicode scalars (like Oniguruma on UTF-8), not grapheme clusters.
struct TextPattern: @unchecked Sendable {
    // Regex is not marked Sendable (its output type holds `Any`), but a compiled regex is immutable; `compile`
    // runs one match so the lazily lowered program exists before the value is shared between threads.
    private enum Storage {
        case literal([UInt8])
        case regex(Regex<AnyRegexOutput>)
    }

    private let storage: Storage

    init(fields f: ComponentFields, key: String = "pattern") throws {
        let object = try f.object(key)
        if let literal = object["String"]?.stringValue {
            if literal.isEmpty {
                // An empty literal matches the empty string at every position, like HF's escaped regex.
                storage = .regex(try Self.compile("", fields: f))
            } else {
                storage = .literal(Array(literal.utf8))
            }
        } else if let pattern = object["Regex"]?.stringValue {
            storage = .regex(try Self.compile(pattern, fields: f))
        } else {
            throw f.invalid("\(key) must be {\"String\": ...} or {\"Regex\": ...}")
        }
    }

    private static func compile(_ pattern: String, fields f: ComponentFields) throws -> Regex<AnyRegexOutput> {
        do {
            let regex = try Regex(OnigurumaPattern.translate(pattern)).matchingSemantics(.unicodeScalar)
            _ = try regex.firstMatch(in: "")
            return regex
        } catch {
            throw f.invalid("cannot compile regex \(pattern.debugDescription): \(error)")
        }
    }

    /// The partition of `text` into matches and the gaps between them, in order, as HF's `find_matches`:
    /// every match is its own span (empty matches included); gaps are merged; empty text gives one gap.
    func spans(in text: String) -> [PatternSpan] {
        var result: [PatternSpan] = []
        let total = text.utf8.count
        if total == 0 { return [PatternSpan(start: 0, end: 0, isMatch: false)] }
        var previous = 0
        func add(_ start: Int, _ end: Int) {
            if start != previous { result.append(PatternSpan(start: previous, end: start, isMatch: false)) }
            result.append(PatternSpan(start: start, end: end, isMatch: true))
            previous = end
        }
        switch storage {
        case .literal(let needle):
            var utf8 = Array(text.utf8)
            let n = needle.count
            utf8.withUnsafeMutableBufferPointer { hay in
                var i = 0
                let first = needle[0]
                while i + n <= total {
                    if hay[i] == first {
                        var k = 1
                        while k < n && hay[i + k] == needle[k] { k += 1 }
                        if k == n {
                            add(i, i + n)
                            i += n
                            continue
                        }
                    }
                    i += 1
                }
            }
        case .regex(let regex):
            // Convert String.Index bounds to UTF-8 offsets incrementally (matches come in order).
            let utf8 = text.utf8
            var cursorIndex = text.startIndex
            var cursorOffset = 0
            func offset(of index: String.Index) -> Int {
                cursorOffset += utf8.distance(from: cursorIndex, to: index)
                cursorIndex = index
                return cursorOffset
            }
            for match in text.matches(of: regex) {
                let start = offset(of: match.range.lowerBound)
                let end = offset(of: match.range.upperBound)
                add(start, end)
            }
        }
        if previous != total { result.append(PatternSpan(start: previous, end: total, isMatch: false)) }
        return result
    }

    /// `text` with every match replaced by `replacement`.
    func replaceAll(in text: String, with replacement: String) -> String {
        let spans = spans(in: text)
        if spans.count == 1 && !spans[0].isMatch { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        let rep = Array(replacement.utf8)
        for span in spans {
            if span.isMatch {
                out.append(contentsOf: rep)
            } else {
                out.append(contentsOf: bytes[span.start..<span.end])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// HF compiles tokenizer.json regexes with Oniguruma, whose shorthand classes differ from Swift Regex's:
/// `\w` is Alphabetic, marks, decimal digits, connector punctuation and (from its Latin-1 table) ¹²³¼½¾;
/// `\d` is any decimal digit; `.` excludes only `\n`. This rewrites those shorthands into explicit
/// classes Swift Regex reads the same way; everything else passes through.
enum OnigurumaPattern {
    static let wordSet = #"\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{B2}\x{B3}\x{B9}\x{BC}-\x{BE}"#
    static let spaceSet = #"\t-\r\x{85}\p{Z}"#

    static func translate(_ pattern: String) -> String {
        var out = ""
        var classDepth = 0
        var iterator = pattern.unicodeScalars.makeIterator()
        // Whether the previous scalar opened a class ("[" or "[^"), where "]" is a literal.
        var atClassStart = false
        while let c = iterator.next() {
            let wasClassStart = atClassStart
            atClassStart = false
            switch c {
            case "\\":
                guard let e = iterator.next() else {
                    out.unicodeScalars.append(c)
                    continue
                }
                let inClass = classDepth > 0
                switch e {
                case "w": out += inClass ? wordSet : "[" + wordSet + "]"
                case "W": out += "[^" + wordSet + "]"
                case "s": out += inClass ? spaceSet : "[" + spaceSet + "]"
                case "S": out += "[^" + spaceSet + "]"
                case "d": out += #"\p{Nd}"#
                case "D": out += #"\P{Nd}"#
                case "h": out += inClass ? "0-9a-fA-F" : "[0-9a-fA-F]"
                case "H": out += "[^0-9a-fA-F]"
                default:
                    out.unicodeScalars.append(c)
                    out.unicodeScalars.append(e)
                }
            case "[":
                classDepth += 1
                out.unicodeScalars.append(c)
                atClassStart = true
            case "^" where wasClassStart:
                out.unicodeScalars.append(c)
                atClassStart = true
            case "]" where classDepth > 0 && !wasClassStart:
                classDepth -= 1
                out.unicodeScalars.append(c)
            case "." where classDepth == 0:
                out += #"[^\n]"#
            default:
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
