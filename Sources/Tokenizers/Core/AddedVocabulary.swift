import JSON

/// One entry of tokenizer.json `added_tokens` (or tokenizer_config.json `added_tokens_decoder`).
public struct AddedToken: Sendable, Equatable {
    /// The token id.
    public var id: Int
    /// The text of the token as written in tokenizer.json.
    public var content: String
    /// Only match when not inside a word (`\w` on neither side).
    public var singleWord: Bool
    /// Absorb whitespace on the left / right of a match.
    public var lstrip: Bool
    public var rstrip: Bool
    /// Match against the normalized text (true) or the raw text (false).
    public var normalized: Bool
    /// Special tokens are skipped by `decode(skipSpecialTokens: true)`.
    public var special: Bool

    init(json: JSONValue, defaultId: Int? = nil) throws {
        func fail(_ reason: String) -> TokenizerError { .invalidComponent(kind: "added_tokens", reason: reason) }
        guard let content = json["content"]?.stringValue else { throw fail("an added token has no string 'content'") }
        guard let id = json["id"]?.intValue ?? defaultId, id >= 0, id < Int(Int32.max) else {
            throw fail("added token '\(content)' has no valid 'id'")
        }
        self.id = id
        self.content = content
        singleWord = json["single_word"]?.boolValue ?? false
        lstrip = json["lstrip"]?.boolValue ?? false
        rstrip = json["rstrip"]?.boolValue ?? false
        special = json["special"]?.boolValue ?? false
        normalized = json["normalized"]?.boolValue ?? !special
    }
}

/// A piece of input after added-token extraction: either an added token or (normalized) text.
enum AddedVocabularySegment: Equatable {
    case token(Int)
    /// Text for the pre-tokenizer; `atTextStart` when it begins at offset 0 of the original input.
    case text(String, atTextStart: Bool)
}

/// Byte trie of token contents for leftmost-longest matching (the Aho-Corasick `LeftmostLongest` result).
private struct TokenTrie: Sendable {
    private var children: [[UInt8: Int32]] = [[:]]
    /// Index into the token list of the token ending at each node, or -1.
    private var terminal: [Int32] = [-1]
    /// Whether any pattern starts with each byte (skips most positions at once).
    private var firstBytes = [Bool](repeating: false, count: 256)
    var isEmpty: Bool { children[0].isEmpty }

    mutating func insert(_ pattern: String, index: Int) {
        var node = 0
        for b in pattern.utf8 {
            if let next = children[node][b] {
                node = Int(next)
            } else {
                children.append([:])
                terminal.append(-1)
                children[node][b] = Int32(children.count - 1)
                node = children.count - 1
            }
        }
        guard node != 0 else { return }
        // The first token with given content wins, as in HF (later duplicates never match).
        if terminal[node] < 0 { terminal[node] = Int32(index) }
        if let first = pattern.utf8.first { firstBytes[Int(first)] = true }
    }

    /// Non-overlapping leftmost-longest matches as (token index, start, end) byte offsets.
    func matches(_ s: UnsafeBufferPointer<UInt8>) -> [(Int, Int, Int)] {
        var out: [(Int, Int, Int)] = []
        let n = s.count
        var p = 0
        while p < n {
            if !firstBytes[Int(s[p])] {
                p += 1
                continue
            }
            var node = 0
            var best = -1
            var bestEnd = p
            var q = p
            while q < n, let next = children[node][s[q]] {
                node = Int(next)
                q += 1
                if terminal[node] >= 0 {
                    best = Int(terminal[node])
                    bestEnd = q
                }
            }
            if best >= 0 {
                out.append((best, p, bestEnd))
                p = bestEnd
            } else {
                p += 1
            }
        }
        return out
    }
}

/// The added tokens of a tokenizer and the splitting of input text around them, as HF's
/// `AddedVocabulary::extract_and_normalize`: raw-matched tokens are split out of the original text first,
/// the remaining pieces are normalized, and then normalized tokens are split out of those.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    /// Id → token string; for `normalized` tokens the normalized content, as HF reports and decodes it.
    private let idToContent: [Int: String]
    private let contentToId: [ExactString: Int]
    let specialIds: Set<Int>
    private let rawTrie: TokenTrie
    private let rawTokens: [AddedToken]
    private let normalizedTrie: TokenTrie
    private let normalizedTokens: [AddedToken]

    init(tokens: [AddedToken], normalizer: (any Normalizer)?) {
        self.tokens = tokens
        var idToContent: [Int: String] = [:]
        var contentToId: [ExactString: Int] = [:]
        var special = Set<Int>()
        var raw: [AddedToken] = []
        var norm: [AddedToken] = []
        var rawTrie = TokenTrie()
        var normalizedTrie = TokenTrie()
        for token in tokens {
            let normalizedContent = token.normalized ? (normalizer?.normalize(token.content) ?? token.content) : token.content
            idToContent[token.id] = normalizedContent
            if contentToId[ExactString(token.content)] == nil { contentToId[ExactString(token.content)] = token.id }
            if token.special { special.insert(token.id) }
            if token.content.isEmpty { continue }
            if token.normalized {
                let pattern = normalizer?.normalize(token.content) ?? token.content
                normalizedTrie.insert(pattern, index: norm.count)
                norm.append(token)
            } else {
                rawTrie.insert(token.content, index: raw.count)
                raw.append(token)
            }
        }
        self.idToContent = idToContent
        self.contentToId = contentToId
        specialIds = special
        self.rawTrie = rawTrie
        rawTokens = raw
        self.normalizedTrie = normalizedTrie
        normalizedTokens = norm
    }

    func id(of content: String) -> Int? { contentToId[ExactString(content)] }
    func content(of id: Int) -> String? { idToContent[id] }
    var isEmpty: Bool { tokens.isEmpty }

    /// Splits `text` into added tokens and normalized text pieces (empty pieces dropped).
    func split(_ text: String, normalizer: (any Normalizer)?) -> [AddedVocabularySegment] {
        var out: [AddedVocabularySegment] = []
        for piece in AddedVocabulary.findMatches(text, trie: rawTrie, tokens: rawTokens) {
            switch piece {
            case .token(let id):
                out.append(.token(id))
            case .text(let rawText, let atStart):
                let normalized = normalizer?.normalize(rawText) ?? rawText
                if normalizedTrie.isEmpty {
                    if !normalized.isEmpty { out.append(.text(normalized, atTextStart: atStart)) }
                    continue
                }
                for sub in AddedVocabulary.findMatches(normalized, trie: normalizedTrie, tokens: normalizedTokens) {
                    if case .text(let t, let subAtStart) = sub {
                        out.append(.text(t, atTextStart: atStart && subAtStart))
                    } else {
                        out.append(sub)
                    }
                }
            }
        }
        return out
    }

    /// HF `find_matches` + `split_with_indices`: matches, then the single_word filter and lstrip/rstrip
    /// widening; text between matches becomes text pieces. Empty pieces are dropped.
    private static func findMatches(_ text: String, trie: TokenTrie, tokens: [AddedToken]) -> [AddedVocabularySegment] {
        if text.isEmpty { return [] }
        if trie.isEmpty { return [.text(text, atTextStart: true)] }
        var text = text
        let original = text
        return text.withUTF8 { s -> [AddedVocabularySegment] in
            let found = trie.matches(s)
            // No match: hand back the text itself rather than a copy.
            if found.isEmpty { return [.text(original, atTextStart: true)] }
            let n = s.count
            var out: [AddedVocabularySegment] = []
            var startOffset = 0
            func emitText(_ a: Int, _ b: Int) {
                guard a < b else { return }
                out.append(.text(String(decoding: UnsafeBufferPointer(rebasing: s[a..<b]), as: UTF8.self), atTextStart: a == 0))
            }
            for (index, matchStart, matchEnd) in found {
                let token = tokens[index]
                var start = matchStart
                var stop = matchEnd
                if token.singleWord {
                    let startSpace = start == 0 || !endsWithWordCharacter(s, before: start)
                    let stopSpace = stop == n || !startsWithWordCharacter(s, at: stop)
                    if !startSpace || !stopSpace { continue }
                }
                if token.lstrip {
                    start = max(leftmostSpaceStart(s, before: start), startOffset)
                }
                if token.rstrip {
                    stop = rightmostSpaceEnd(s, from: stop)
                }
                if startOffset < start { emitText(startOffset, start) }
                out.append(.token(token.id))
                startOffset = stop
            }
            if startOffset < n { emitText(startOffset, n) }
            return out
        }
    }

    /// The scalar ending at byte `i` (exclusive).
    private static func scalar(before i: Int, in s: UnsafeBufferPointer<UInt8>) -> Unicode.Scalar? {
        var j = i - 1
        while j > 0 && s[j] & 0xC0 == 0x80 { j -= 1 }
        return scalar(at: j, in: s)?.0
    }

    private static func scalar(at i: Int, in s: UnsafeBufferPointer<UInt8>) -> (Unicode.Scalar, Int)? {
        guard i >= 0, i < s.count else { return nil }
        var iterator = s[i...].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let v) = decoder.decode(&iterator) { return (v, v.utf8.count) }
        return nil
    }

    /// Rust regex `\w`: Alphabetic, marks, decimal digits, connector punctuation, join controls.
    private static func isWord(_ v: Unicode.Scalar) -> Bool {
        let p = v.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    private static func endsWithWordCharacter(_ s: UnsafeBufferPointer<UInt8>, before i: Int) -> Bool {
        guard let v = scalar(before: i, in: s) else { return false }
        return isWord(v)
    }

    private static func startsWithWordCharacter(_ s: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard let (v, _) = scalar(at: i, in: s) else { return false }
        return isWord(v)
    }

    /// The start of the whitespace run that ends at `i`.
    private static func leftmostSpaceStart(_ s: UnsafeBufferPointer<UInt8>, before i: Int) -> Int {
        var j = i
        while j > 0, let v = scalar(before: j, in: s), v.properties.isWhitespace {
            j -= v.utf8.count
        }
        return j
    }

    /// The end of the whitespace run that starts at `i`.
    private static func rightmostSpaceEnd(_ s: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var j = i
        while let (v, len) = scalar(at: j, in: s), v.properties.isWhitespace { j += len }
        return j
    }
}
