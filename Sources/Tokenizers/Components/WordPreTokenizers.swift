import JSON

/// `Whitespace`: the words of `\w+|[^\w\s]+` — runs of word characters and runs of other non-space
/// characters; whitespace is dropped.
struct WhitespacePreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    private enum Class { case word, other, space }

    @inline(__always)
    private static func classify(_ s: Unicode.Scalar) -> Class {
        if CharacterClasses.isWordCharacter(s) { return .word }
        if CharacterClasses.isWhitespace(s) { return .space }
        return .other
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var output: [PreToken] = []
        for piece in pieces {
            var spans: [PatternSpan] = []
            var offset = 0
            var runStart = 0
            var runClass = Class.space
            for s in piece.text.unicodeScalars {
                let c = Self.classify(s)
                if c != runClass {
                    if runClass != .space && offset > runStart {
                        spans.append(PatternSpan(start: runStart, end: offset, isMatch: false))
                    }
                    runStart = offset
                    runClass = c
                }
                offset += UTF8.width(s)
            }
            if runClass != .space && offset > runStart {
                spans.append(PatternSpan(start: runStart, end: offset, isMatch: false))
            }
            let bytes = Array(piece.text.utf8)
            // Kept runs are the pieces; everything between them is removed.
            SplitDelimiterBehavior.isolated.split(piece, bytes: bytes, spans: spans, into: &output)
        }
        return output
    }
}

/// `WhitespaceSplit`: splits on Unicode whitespace and drops it.
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var output: [PreToken] = []
        for piece in pieces {
            let spans = SplitDelimiterBehavior.characterSpans(piece.text, CharacterClasses.isWhitespace)
            SplitDelimiterBehavior.removed.split(piece, bytes: Array(piece.text.utf8), spans: spans, into: &output)
        }
        return output
    }
}

/// `BertPreTokenizer`: splits on whitespace (dropped), then isolates every punctuation character.
struct BertPreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var words: [PreToken] = []
        for piece in pieces {
            let spans = SplitDelimiterBehavior.characterSpans(piece.text, CharacterClasses.isWhitespace)
            SplitDelimiterBehavior.removed.split(piece, bytes: Array(piece.text.utf8), spans: spans, into: &words)
        }
        var output: [PreToken] = []
        output.reserveCapacity(words.count)
        for word in words {
            let spans = SplitDelimiterBehavior.characterSpans(word.text, CharacterClasses.isBertPunctuation)
            SplitDelimiterBehavior.isolated.split(word, bytes: Array(word.text.utf8), spans: spans, into: &output)
        }
        return output
    }
}

/// `Punctuation`: splits at every punctuation character with the configured behavior (default Isolated).
struct PunctuationPreTokenizer: PreTokenizer {
    let behavior: SplitDelimiterBehavior

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "pre_tokenizer", json: json)
        behavior = try SplitDelimiterBehavior(fields: f, default: .isolated)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var output: [PreToken] = []
        for piece in pieces {
            let spans = SplitDelimiterBehavior.characterSpans(piece.text, CharacterClasses.isBertPunctuation)
            behavior.split(piece, bytes: Array(piece.text.utf8), spans: spans, into: &output)
        }
        return output
    }
}

/// `Digits`: isolates numeric characters, each on its own (`individual_digits`) or as runs.
struct DigitsPreTokenizer: PreTokenizer {
    let individualDigits: Bool

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "pre_tokenizer", json: json)
        individualDigits = try f.bool("individual_digits", default: false)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var output: [PreToken] = []
        let behavior: SplitDelimiterBehavior = individualDigits ? .isolated : .contiguous
        for piece in pieces {
            let spans = SplitDelimiterBehavior.characterSpans(piece.text, CharacterClasses.isNumeric)
            behavior.split(piece, bytes: Array(piece.text.utf8), spans: spans, into: &output)
        }
        return output
    }
}
