import JSON

/// `WordPiece` decoder: tokens without the continuing-subword `prefix` start a new word (a space before
/// them); with `cleanup`, BERT's tokenization artifacts (" ." " n't" ...) are undone.
struct WordPieceDecoder: TokenDecoder {
    let prefix: String
    let cleanup: Bool

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "decoder", json: json)
        prefix = try f.string("prefix", default: "##")
        cleanup = try f.bool("cleanup", default: true)
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, token in
            var t = token
            if i != 0 {
                if !prefix.isEmpty, t.utf8.starts(with: prefix.utf8) {
                    t = String(decoding: t.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
                } else {
                    t = " " + t
                }
            }
            return cleanup ? Self.cleanUp(t) : t
        }
    }

    /// The replacements of HF's `wordpiece::cleanup`, in its order.
    static func cleanUp(_ text: String) -> String {
        let rules: [(String, String)] = [
            (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
            (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
        ]
        var t = text
        for (from, to) in rules where t.utf8.count >= from.utf8.count {
            t = literalReplace(t, from, to)
        }
        return t
    }

    /// Byte-wise replacement (String.replacing works on Characters, which would miss " ." before a mark).
    private static func literalReplace(_ text: String, _ from: String, _ to: String) -> String {
        let hay = Array(text.utf8)
        let needle = Array(from.utf8)
        var out: [UInt8] = []
        var i = 0
        var changed = false
        out.reserveCapacity(hay.count)
        while i < hay.count {
            if i + needle.count <= hay.count && hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) {
                out.append(contentsOf: to.utf8)
                i += needle.count
                changed = true
            } else {
                out.append(hay[i])
                i += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }
}
