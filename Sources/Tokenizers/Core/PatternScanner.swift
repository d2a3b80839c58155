/// The three pre-tokenizer regexes that are implemented as hand-written scanners over UTF-8 bytes.
enum ScannerPattern: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama-3 (cl100k): case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`, ...
    case llama3
    /// Qwen2: Llama-3's pattern with single digits (`\p{N}`).
    case qwen2

    /// The regex source exactly as tokenizer.json writes it.
    var regex: String {
        switch self {
        case .gpt2:
            return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pattern whose source is exactly `regex`, if any.
    init?(regex: String) {
        guard let match = ScannerPattern.allCases.first(where: { $0.regex == regex }) else { return nil }
        self = match
    }
}

/// Splits UTF-8 text into the pieces one of the `ScannerPattern` regexes matches (every pattern covers all
/// characters, so the pieces tile the input). Equivalent to HF's `Split(pattern, Isolated)` with Oniguruma,
/// checked against HF tokenizers by `ScannerFixtureTests`.
struct PatternScanner: Sendable {
    let pattern: ScannerPattern
    private let table = UnicodeClassTable.pointers

    init(_ pattern: ScannerPattern) {
        self.pattern = pattern
    }

    /// The class and byte length of the character at `i` (`i < s.count`). Invalid UTF-8 counts as one
    /// `other` byte, which cannot happen for bytes taken from a Swift `String`.
    @inline(__always)
    private func charAt(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> (cls: UInt8, len: Int) {
        let b0 = s[i]
        if b0 < 0x80 { return (table.ascii[Int(b0)], 1) }
        let n = s.count
        if b0 & 0xE0 == 0xC0, i + 1 < n {
            let cp = UInt32(b0 & 0x1F) << 6 | UInt32(s[i + 1] & 0x3F)
            return (table.rawClass(cp), 2)
        }
        if b0 & 0xF0 == 0xE0, i + 2 < n {
            let cp = UInt32(b0 & 0x0F) << 12 | UInt32(s[i + 1] & 0x3F) << 6 | UInt32(s[i + 2] & 0x3F)
            return (table.rawClass(cp), 3)
        }
        if b0 & 0xF8 == 0xF0, i + 3 < n {
            let cp = UInt32(b0 & 0x07) << 18 | UInt32(s[i + 1] & 0x3F) << 12 | UInt32(s[i + 2] & 0x3F) << 6
                | UInt32(s[i + 3] & 0x3F)
            return (table.rawClass(cp), 4)
        }
        return (0, 1)
    }

    /// The end of the run of characters of class `cls` starting at `i`.
    @inline(__always)
    private func runEnd(_ s: UnsafeBufferPointer<UInt8>, from i: Int, cls: UInt8) -> Int {
        var j = i
        let n = s.count
        while j < n {
            let c = charAt(s, j)
            if c.cls != cls { break }
            j += c.len
        }
        return j
    }

    /// The end of `\s+(?!\S)|\s+` at `i` (a whitespace character): a run followed by a non-space keeps its
    /// last character for the next piece, unless the run is a single character.
    @inline(__always)
    private func whitespaceEnd(_ s: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var j = i
        var lastStart = i
        var count = 0
        let n = s.count
        while j < n {
            let c = charAt(s, j)
            if c.cls != 3 { break }
            lastStart = j
            count += 1
            j += c.len
        }
        if j == n || count == 1 { return j }
        return lastStart
    }

    @inline(__always)
    private static func lower(_ b: UInt8) -> UInt8 { b | 0x20 }

    /// The length of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `i`, or 0.
    @inline(__always)
    private func contractionLength(_ s: UnsafeBufferPointer<UInt8>, _ i: Int, caseInsensitive: Bool) -> Int {
        let n = s.count
        guard s[i] == UInt8(ascii: "'"), i + 1 < n else { return 0 }
        var c1 = s[i + 1]
        if caseInsensitive {
            // U+017F LATIN SMALL LETTER LONG S case-folds to "s" under (?i).
            if c1 == 0xC5, i + 2 < n, s[i + 2] == 0xBF { return 3 }
            if c1 >= 0x41 && c1 <= 0x5A { c1 |= 0x20 }
        }
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"), UInt8(ascii: "l"):
            guard i + 2 < n else { return 0 }
            var c2 = s[i + 2]
            if caseInsensitive, c2 >= 0x41 && c2 <= 0x5A { c2 |= 0x20 }
            if c1 == UInt8(ascii: "l") { return c2 == UInt8(ascii: "l") ? 3 : 0 }
            return c2 == UInt8(ascii: "e") ? 3 : 0
        default: return 0
        }
    }

    /// Calls `emit(start, end)` for every piece of `s`, in order.
    @inline(__always)
    func split(_ s: UnsafeBufferPointer<UInt8>, _ emit: (Int, Int) -> Void) {
        switch pattern {
        case .gpt2: splitGPT2(s, emit)
        case .llama3: splitLlama3(s, maxDigits: 3, emit)
        case .qwen2: splitLlama3(s, maxDigits: 1, emit)
        }
    }

    /// Appends the end offset of every piece of `s` to `ends` (pieces tile `s`, so starts are implied).
    func split(_ s: UnsafeBufferPointer<UInt8>, ends: inout [Int]) {
        split(s) { _, end in ends.append(end) }
    }

    /// The piece boundaries of `s` as (start, end) byte offsets.
    func pieces(_ s: UnsafeBufferPointer<UInt8>) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        split(s) { out.append(($0, $1)) }
        return out
    }

    private func splitGPT2(_ s: UnsafeBufferPointer<UInt8>, _ emit: (Int, Int) -> Void) {
        let n = s.count
        var p = 0
        while p < n {
            let start = p
            let k = contractionLength(s, p, caseInsensitive: false)
            if k > 0 {
                p += k
                emit(start, p)
                continue
            }
            let c0 = s[p]
            var q = p
            if c0 == 0x20, p + 1 < n {
                let next = charAt(s, p + 1)
                if next.cls != 3 { q = p + 1 }
            }
            let c = charAt(s, q)
            if c.cls == 3 {
                p = whitespaceEnd(s, from: p)
            } else {
                p = runEnd(s, from: q + c.len, cls: c.cls)
            }
            emit(start, p)
        }
    }

    private func splitLlama3(_ s: UnsafeBufferPointer<UInt8>, maxDigits: Int, _ emit: (Int, Int) -> Void) {
        let n = s.count
        var p = 0
        while p < n {
            let start = p
            let k = contractionLength(s, p, caseInsensitive: true)
            if k > 0 {
                p += k
                emit(start, p)
                continue
            }
            let c0 = s[p]
            let first = charAt(s, p)
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if first.cls == 1 {
                p = runEnd(s, from: p + first.len, cls: 1)
                emit(start, p)
                continue
            }
            if first.cls != 2, c0 != 0x0A, c0 != 0x0D, p + first.len < n {
                let next = charAt(s, p + first.len)
                if next.cls == 1 {
                    p = runEnd(s, from: p + first.len + next.len, cls: 1)
                    emit(start, p)
                    continue
                }
            }
            // \p{N}{1,maxDigits}
            if first.cls == 2 {
                p += first.len
                var digits = 1
                while digits < maxDigits, p < n {
                    let c = charAt(s, p)
                    if c.cls != 2 { break }
                    p += c.len
                    digits += 1
                }
                emit(start, p)
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            var q = p
            if c0 == 0x20, p + 1 < n { q = p + 1 }
            let cq = q == p ? first : charAt(s, q)
            if cq.cls == 0 {
                p = runEnd(s, from: q + cq.len, cls: 0)
                while p < n, s[p] == 0x0A || s[p] == 0x0D { p += 1 }
                emit(start, p)
                continue
            }
            // \s*[\r\n]+ : through the last line break of the whitespace run.
            var j = p
            var afterLastBreak = -1
            while j < n {
                let c = charAt(s, j)
                if c.cls != 3 { break }
                if s[j] == 0x0A || s[j] == 0x0D { afterLastBreak = j + 1 }
                j += c.len
            }
            if afterLastBreak > 0 {
                p = afterLastBreak
            } else {
                p = whitespaceEnd(s, from: p)
            }
            emit(start, p)
        }
    }
}
