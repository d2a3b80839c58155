import JSON

/// `Unigram` (SentencePiece): the segmentation of a word with the highest total piece score (Viterbi over
/// a byte trie of the vocabulary). A character no piece covers scores `min_score - 10` as unk; adjacent
/// unks fuse into one; with `byte_fallback` an unknown piece becomes its `<0xNN>` byte tokens.
struct UnigramModel: TokenizerModel {
    let pieces: [String]
    let scores: [Double]
    /// Keyed by UTF-8 bytes (Swift String keys would merge canonically equivalent pieces).
    let pieceToId: [[UInt8]: Int]
    let unkId: Int?
    let byteFallback: Bool
    let unkScore: Double
    /// `<0xNN>` ids for byte fallback (nil where the vocabulary lacks a byte).
    let byteIds: [Int?]
    private let trie: ByteTrie

    /// The penalty below the lowest piece score that HF (and SentencePiece) give an unknown character.
    static let unknownPenalty = 10.0

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "model", json: json)
        let vocab = try f.array("vocab")
        var pieces: [String] = []
        var scores: [Double] = []
        var pieceToId: [[UInt8]: Int] = [:]
        pieces.reserveCapacity(vocab.count)
        scores.reserveCapacity(vocab.count)
        var trie = ByteTrie()
        var minScore = Double.infinity
        for (id, entry) in vocab.enumerated() {
            guard let pair = entry.arrayValue, pair.count == 2, let piece = pair[0].stringValue,
                  let score = pair[1].doubleValue else {
                throw f.invalid("vocab[\(id)] must be a [piece, score] pair")
            }
            pieces.append(piece)
            scores.append(score)
            let bytes = Array(piece.utf8)
            pieceToId[bytes] = id
            trie.insert(bytes, id: id)
            minScore = min(minScore, score)
        }
        self.pieces = pieces
        self.scores = scores
        self.pieceToId = pieceToId
        self.trie = trie
        unkId = try f.optionalInt("unk_id")
        if let unkId, unkId < 0 || unkId >= pieces.count {
            throw f.invalid("unk_id \(unkId) is outside the vocabulary of \(pieces.count) pieces")
        }
        byteFallback = try f.bool("byte_fallback", default: false)
        unkScore = (minScore.isFinite ? minScore : 0) - Self.unknownPenalty
        byteIds = (0..<256).map { pieceToId[Array(("<0x" + hex2(UInt8($0)) + ">").utf8)] }
    }

    func tokenize(_ word: String, into ids: inout [Int]) {
        let bytes = Array(word.utf8)
        let n = bytes.count
        guard n > 0 else { return }
        // best[i]: the best path covering bytes[0..<i]: its score, its last piece's start and id.
        var bestScore = [Double](repeating: 0, count: n + 1)
        var bestStart = [Int](repeating: -1, count: n + 1)
        var bestId = [Int](repeating: -1, count: n + 1)
        var start = 0
        while start < n {
            if start > 0 && bestStart[start] < 0 {
                // Unreachable (only when there is no unk id): skip this character like HF would fail it.
                start += scalarWidth(bytes[start])
                continue
            }
            let base = bestScore[start]
            let charLength = min(scalarWidth(bytes[start]), n - start)
            var hasSingleCharPiece = false
            trie.forEachPrefix(of: bytes, from: start) { end, id in
                let candidate = scores[id] + base
                if bestStart[end] < 0 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    bestStart[end] = start
                    bestId[end] = id
                }
                if end - start == charLength { hasSingleCharPiece = true }
            }
            if !hasSingleCharPiece, let unkId {
                let end = start + charLength
                let candidate = unkScore + base
                if bestStart[end] < 0 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    bestStart[end] = start
                    bestId[end] = unkId
                }
            }
            start += charLength
        }
        // Walk back from the end; consecutive unk pieces fuse into one span.
        var spans: [(start: Int, end: Int, id: Int)] = []
        var end = n
        while end > 0 {
            let s = bestStart[end]
            guard s >= 0 else {
                // No path reaches here (no unk id): step back one byte and continue.
                end -= 1
                continue
            }
            let id = bestId[end]
            if id == unkId, let last = spans.last, last.id == id, last.start == end {
                spans[spans.count - 1].start = s
            } else {
                spans.append((s, end, id))
            }
            end = s
        }
        for span in spans.reversed() {
            if span.id != unkId {
                ids.append(span.id)
                continue
            }
            // An unk span: it may still be a vocabulary piece (e.g. the unk piece's own text).
            if let id = pieceToId[Array(bytes[span.start..<span.end])] {
                ids.append(id)
            } else if byteFallback, let byteTokens = byteTokens(bytes[span.start..<span.end]) {
                ids.append(contentsOf: byteTokens)
            } else {
                ids.append(span.id)
            }
        }
    }

    private func byteTokens(_ bytes: ArraySlice<UInt8>) -> [Int]? {
        var out: [Int] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            guard let id = byteIds[Int(b)] else { return nil }
            out.append(id)
        }
        return out
    }

    func tokenToId(_ token: String) -> Int? { pieceToId[Array(token.utf8)] }

    func idToToken(_ id: Int) -> String? { id >= 0 && id < pieces.count ? pieces[id] : nil }

    var vocabSize: Int { pieces.count }
}

/// The length of the UTF-8 sequence a lead byte starts (1 for stray continuation bytes).
@inline(__always)
private func scalarWidth(_ lead: UInt8) -> Int {
    if lead < 0xC0 { return 1 }
    if lead < 0xE0 { return 2 }
    if lead < 0xF0 { return 3 }
    return 4
}

private func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

/// A byte trie of vocabulary pieces supporting "all pieces that are prefixes of the text from here".
struct ByteTrie: Sendable {
    /// Child lookup keyed by (node << 8 | byte).
    private var children: [Int: Int32] = [:]
    /// The piece id ending at each node, or -1.
    private var values: [Int32] = [-1]

    /// Adds a piece; a repeated piece takes the later id, as HF's piece → id map does.
    mutating func insert(_ bytes: [UInt8], id: Int) {
        guard !bytes.isEmpty else { return }
        var node = 0
        for b in bytes {
            let key = node << 8 | Int(b)
            if let child = children[key] {
                node = Int(child)
            } else {
                let child = values.count
                values.append(-1)
                children[key] = Int32(child)
                node = child
            }
        }
        values[node] = Int32(id)
    }

    /// Calls `body(end, id)` for every piece equal to `bytes[start..<end]`, shortest first.
    func forEachPrefix(of bytes: [UInt8], from start: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var i = start
        while i < bytes.count {
            guard let child = children[node << 8 | Int(bytes[i])] else { return }
            node = Int(child)
            i += 1
            let v = values[node]
            if v >= 0 { body(i, Int(v)) }
        }
    }
}
