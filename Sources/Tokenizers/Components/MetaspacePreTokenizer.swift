import JSON

/// When Metaspace puts a replacement character in front of a piece.
enum PrependScheme: String, Sendable {
    case always
    case first
    case never

    /// Reads `prepend_scheme`, or the legacy boolean `add_prefix_space` (true → always, false → never).
    init(fields f: ComponentFields) throws {
        if let name = try f.optionalString("prepend_scheme") {
            guard let scheme = PrependScheme(rawValue: name.lowercased()) else {
                throw f.invalid("unknown prepend_scheme '\(name)' (expected always, first or never)")
            }
            self = scheme
        } else {
            self = try f.bool("add_prefix_space", default: true) ? .always : .never
        }
    }

    /// The single replacement character (`replacement`, or legacy `str_rep`), default U+2581.
    static func replacement(fields f: ComponentFields) throws -> Character {
        let text = try f.optionalString("replacement") ?? f.optionalString("str_rep") ?? "\u{2581}"
        guard text.unicodeScalars.count == 1, let c = text.first else {
            throw f.invalid("replacement must be a single character, found \(text.debugDescription)")
        }
        return c
    }
}

/// `Metaspace`: replaces spaces with `replacement` (▁), prepends one per `prepend_scheme`, and with
/// `split` cuts the text before every replacement character.
struct MetaspacePreTokenizer: PreTokenizer {
    let replacement: Unicode.Scalar
    let replacementString: String
    let prependScheme: PrependScheme
    let split: Bool

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "pre_tokenizer", json: json)
        let c = try PrependScheme.replacement(fields: f)
        replacementString = String(c)
        replacement = c.unicodeScalars.first ?? "\u{2581}"
        prependScheme = try PrependScheme(fields: f)
        split = try f.bool("split", default: true)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var output: [PreToken] = []
        for piece in pieces where !piece.text.isEmpty {
            var text = String.UnicodeScalarView()
            for s in piece.text.unicodeScalars {
                if s == " " { text.append(replacement) } else { text.append(s) }
            }
            let startsWithReplacement = text.first == replacement
            let prepend: Bool
            switch prependScheme {
            case .always: prepend = !startsWithReplacement
            case .first: prepend = !startsWithReplacement && piece.atTextStart
            case .never: prepend = false
            }
            if prepend { text.insert(replacement, at: text.startIndex) }
            let rewritten = PreToken(text: String(text), atTextStart: piece.atTextStart)
            if split {
                let r = replacement
                let spans = SplitDelimiterBehavior.characterSpans(rewritten.text) { $0 == r }
                SplitDelimiterBehavior.mergedWithNext.split(rewritten, bytes: Array(rewritten.text.utf8), spans: spans,
                                                            into: &output)
            } else if !rewritten.text.isEmpty {
                output.append(rewritten)
            }
        }
        return output
    }
}
