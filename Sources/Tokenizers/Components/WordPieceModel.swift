import JSON

/// `WordPiece` (BERT): greedy longest-match-first over each word; pieces after the first carry the
/// `continuing_subword_prefix` (`##`). A word with an unmatchable part, or longer than
/// `max_input_chars_per_word` characters, becomes the single `unk_token`.
struct WordPieceModel: TokenizerModel {
    let vocab: [String: Int]
    let idToTokenTable: [Int: String]
    let unkToken: String
    let unkId: Int?
    let continuingSubwordPrefix: String
    let maxInputCharsPerWord: Int

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "model", json: json)
        var vocab: [String: Int] = [:]
        var reverse: [Int: String] = [:]
        let entries = try f.object("vocab")
        vocab.reserveCapacity(entries.count)
        for (token, value) in entries {
            guard let id = value.intValue, id >= 0 else {
                throw f.invalid("vocab['\(token)'] must be a non-negative integer id, found \(value.typeName)")
            }
            vocab[token] = id
            reverse[id] = token
        }
        self.vocab = vocab
        idToTokenTable = reverse
        unkToken = try f.string("unk_token", default: "[UNK]")
        unkId = vocab[unkToken]
        continuingSubwordPrefix = try f.string("continuing_subword_prefix", default: "##")
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
        while start < bytes.count {
            var end = bytes.count
            var found: Int?
            while start < end {
                let piece = String(decoding: bytes[start..<end], as: UTF8.self)
                let key = start > 0 ? continuingSubwordPrefix + piece : piece
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

    func tokenToId(_ token: String) -> Int? { vocab[token] }

    func idToToken(_ id: Int) -> String? { idToTokenTable[id] }

    var vocabSize: Int { vocab.count }
}
