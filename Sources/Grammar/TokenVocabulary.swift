import Tokenizers

/// Every token's raw bytes, as the model emits them (one table per tokenizer, shared by all grammars).
///
/// Byte-level BPE tokens (GPT-2, Llama-3, Qwen2, SmolLM2) are unmapped from the 256-character byte alphabet;
/// SentencePiece-style tokens have `▁` turned into a space and `<0xNN>` into the byte NN. Special added tokens
/// (BOS, EOS, chat markers) are excluded: a grammar never produces them, except EOS in accepting states.
public struct TokenVocabulary: Sendable {
    /// How token strings encode bytes.
    public enum Encoding: String, Sendable {
        case byteLevel
        case sentencePiece
        /// Token strings are the text itself (WordPiece-like or plain vocabularies).
        case raw
    }

    /// The number of ids (the largest id + 1); masks have this many bits at least.
    public let size: Int
    /// The raw bytes of each id; nil for excluded ids (special tokens, holes in the id space).
    public let tokenBytes: [[UInt8]?]
    /// The ids that end generation (allowed only where the grammar accepts).
    public let eosTokenIds: [Int]
    /// The alphabet the token strings were read in.
    public let encoding: Encoding

    /// Builds the table from explicit bytes (tests, other tokenizer sources).
    public init(tokenBytes: [[UInt8]?], eosTokenIds: [Int], encoding: Encoding = .raw) {
        self.tokenBytes = tokenBytes
        self.size = tokenBytes.count
        self.eosTokenIds = eosTokenIds.filter { $0 >= 0 && $0 < tokenBytes.count }
        self.encoding = encoding
    }

    /// Builds the table of a loaded tokenizer. `extraEOSTokenIds` adds stop ids from generation_config.json.
    public init(tokenizer: Tokenizer, extraEOSTokenIds: [Int] = []) throws(GrammarError) {
        var size = tokenizer.vocabSize
        for added in tokenizer.addedTokens { size = max(size, added.id + 1) }
        guard size > 0 else { throw .invalidTokenizer(reason: "the vocabulary is empty") }
        var strings = [String?](repeating: nil, count: size)
        for id in 0..<size { strings[id] = tokenizer.idToToken(id) }

        // Which alphabet the vocabulary uses: count the markers of each scheme.
        var byteLevelMarks = 0, metaspaceMarks = 0
        for s in strings.prefix(50_000) {
            guard let s else { continue }
            if s.unicodeScalars.contains("\u{0120}") || s.unicodeScalars.contains("\u{010A}") { byteLevelMarks += 1 }
            if s.unicodeScalars.contains("\u{2581}") || (s.hasPrefix("<0x") && s.count == 6) { metaspaceMarks += 1 }
        }
        let encoding: Encoding = byteLevelMarks == 0 && metaspaceMarks == 0
            ? .raw : byteLevelMarks >= metaspaceMarks ? .byteLevel : .sentencePiece

        var special = tokenizer.specialTokenIds
        var addedContent: [Int: String] = [:]
        for added in tokenizer.addedTokens {
            if added.special { special.insert(added.id) } else { addedContent[added.id] = added.content }
        }
        var table = [[UInt8]?](repeating: nil, count: size)
        for id in 0..<size where !special.contains(id) {
            if let content = addedContent[id] {
                // Added (non-special) tokens are matched as raw text, not in the model's alphabet.
                table[id] = Array(content.utf8)
            } else if let s = strings[id] {
                table[id] = Self.bytes(of: s, encoding: encoding)
            }
        }
        for (i, bytes) in table.enumerated() where bytes?.isEmpty == true { table[i] = nil }
        var eos = extraEOSTokenIds
        if let id = tokenizer.eosTokenId { eos.append(id) }
        self.init(tokenBytes: table, eosTokenIds: Array(Set(eos)).sorted(), encoding: encoding)
    }

    /// The raw bytes a token string stands for.
    public static func bytes(of token: String, encoding: Encoding) -> [UInt8] {
        switch encoding {
        case .raw:
            return Array(token.utf8)
        case .sentencePiece:
            let scalars = Array(token.unicodeScalars)
            if scalars.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">"),
               let byte = UInt8(String(String.UnicodeScalarView(scalars[3..<5])), radix: 16) {
                return [byte]
            }
            var out: [UInt8] = []
            for scalar in scalars {
                if scalar == "\u{2581}" { out.append(0x20) } else { out.append(contentsOf: String(scalar).utf8) }
            }
            return out
        case .byteLevel:
            var out: [UInt8] = []
            out.reserveCapacity(token.unicodeScalars.count)
            for scalar in token.unicodeScalars {
                let v = Int(scalar.value)
                if v < byteOfScalar.count, byteOfScalar[v] >= 0 {
                    out.append(UInt8(byteOfScalar[v]))
                } else {
                    out.append(contentsOf: String(scalar).utf8)  // not in the alphabet: take the text as is
                }
            }
            return out
        }
    }

    /// GPT-2's `bytes_to_unicode`, inverted: printable Latin-1 bytes stand for themselves, the other 68 bytes
    /// are U+0100... in byte order.
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x200)
        var next = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Int16(b)
            } else {
                table[0x100 + next] = Int16(b)
                next += 1
            }
        }
        return table
    }()
}
