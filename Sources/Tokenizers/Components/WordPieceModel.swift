import JSON

/// `WordPiece` (BERT): greedy longest-match-first over each word; pieces after the first carry the
/// `continuing_subword_prefix` (`##`). A word with an unmatchable part, or longer than
/// `max_input_chars_per_word` characters, becomes the single `unk_token`.
struct WordPieceModel: TokenizerModel {
    /// Keyed by UTF-8 bytes: Swift String keys compare by canonical equivalence ("Å" == "A\u{30A}"),
    /// but HF distinguishes them.
    let vocab: [[UInt8]: Int]
    let idToTokenTable: [Int: String]
    let unkToken: String
    let unkId: Int?
    let continuingSubwordPrefix: [UInt8]
    let maxInputCharsPerWord: Int

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "model", json: json)
        var vocab: [[UInt8]: Int] = [:]
        var reverse: [Int: String] = [:]
        let entries = try f.object("vocab")
        vocab.reserveCapacity(entries.count)
        for (token, value) in entries {
            guard let id = value.intValue, id >= 0 else {
                throw f.invalid("vocab['\(token)'] must be a non-negative integer id, found \(value.typeName)")
            }
            vocab[Array(token.utf8)] = id
            reverse[id] = token
        }
        self.vocab = vocab
        idToTokenTable = reverse
        unkToken = try f.string("unk_token", default: "[UNK]")
        unkId = vocab[Array(unkToken.utf8)]
        continuingSubwordPrefix = Array(try f.string("continuing_subword_prefix", default: "##").utf8)
        maxInputCharsPerWord = try f.int("max_input_chars_per_word", default: 100)
    }

    func tokenize(_ word: String, into ids: inout [Int]) {
        let bytes = Array(word.utf8)
        guard !bytes.isEmpty else { return }
        // HF reports a missing unk token as an encoding error; with no unk id the word yields nothing.
        if word.unicodeScalars.count > maxInputCharsPerWord {
            if let unkId { ids.append(unkId) }
            return
        }
        let mark = ids.count
        var start = 0
        var key: [UInt8] = []
        key.reserveCapacity(bytes.count + continuingSubwordPrefix.count)
        while start < bytes.count {
            var end = bytes.count
            var found: Int?
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: continuingSubwordPrefix) }
                key.append(contentsOf: bytes[start..<end])
                if let id = vocab[key] {
                    found = id
                    break
                }
                // Step back one scalar: skip UTF-8 continuation bytes.
                end -= 1
                while end > start && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            }
            guard let id = found else {
                ids.removeSubrange(mark...)
                if let unkId { ids.append(unkId) }
                return
            }
            ids.append(id)
            start = end
        }
    }

    func tokenToId(_ token: String) -> Int? { vocab[Array(token.utf8)] }

    func idToToken(_ id: Int) -> String? { idToTokenTable[id] }

    var vocabSize: Int { vocab.count }
}
