import JSON
import Synchronization

/// Per-caller mutable state of `BPEModel.tokenize`: merge scratch and the word cache (word → ids; words
/// under 256 bytes, cleared past 10,000 entries like HF's cache).
struct BPEEncodeState: Sendable {
    var scratch = BPEMergeScratch()
    var cache: [ExactString: [Int32]] = [:]
}

/// Hands one `BPEEncodeState` to each concurrent caller, so caches are reused without being shared.
final class BPEStatePool: Sendable {
    private let pool = Mutex<[BPEEncodeState]>([])

    func withState<R>(_ body: (inout BPEEncodeState) -> R) -> R {
        var state = pool.withLock { $0.popLast() } ?? BPEEncodeState()
        let result = body(&state)
        pool.withLock { if $0.count < 8 { $0.append(state) } }
        return result
    }
}

/// tokenizer.json `BPE` model: byte-level BPE (GPT-2, Llama-3, Qwen2, SmolLM) and SentencePiece-style BPE
/// with `byte_fallback` (Llama-2, Mistral). Merges are applied on ids by rank (`BPEMergeTable`).
struct BPEModel: TokenizerModel {
    /// Token string → id (byte-exact keys: canonically equivalent tokens stay distinct).
    let vocab: [ExactString: Int]
    /// Id → token string (nil for ids the vocab skips).
    let vocabReverse: [String?]
    let merges: BPEMergeTable
    let unkToken: String?
    let unkId: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let continuingSubwordPrefix: String
    let endOfWordSuffix: String
    /// The ids of `<0x00>`...`<0xFF>` when byte_fallback is on (-1 where missing).
    private let byteFallbackIds: [Int32]
    /// Word caches for the String pipeline (the byte-level fast path has its own).
    let statePool = BPEStatePool()

    init(json: JSONValue) throws {
        func fail(_ reason: String) -> TokenizerError { .invalidComponent(kind: "model", reason: "BPE: " + reason) }
        guard let vocabObject = json["vocab"]?.objectValue else { throw fail("missing object field 'vocab'") }
        var vocab: [ExactString: Int] = [:]
        vocab.reserveCapacity(vocabObject.count)
        var maxId = -1
        for (token, value) in vocabObject {
            guard let id = value.intValue, id >= 0, id < Int(Int32.max) else {
                throw fail("vocab entry '\(token)' has no valid id")
            }
            vocab[ExactString(token)] = id
            maxId = max(maxId, id)
        }
        // The id → token table is dense; refuse absurdly sparse ids rather than allocate gigabytes.
        if maxId >= 1 << 24 && maxId > 2 * vocab.count {
            throw fail("vocab ids are too sparse: largest id \(maxId) for \(vocab.count) tokens")
        }
        var reverse = [String?](repeating: nil, count: maxId + 1)
        for (token, id) in vocab { reverse[id] = token.value }
        self.vocab = vocab
        vocabReverse = reverse

        func optionalString(_ key: String) throws -> String? {
            guard let v = json[key], !v.isNull else { return nil }
            guard let s = v.stringValue else { throw fail("field '\(key)' must be a string") }
            return s
        }
        unkToken = try optionalString("unk_token")
        continuingSubwordPrefix = try optionalString("continuing_subword_prefix") ?? ""
        endOfWordSuffix = try optionalString("end_of_word_suffix") ?? ""
        fuseUnk = json["fuse_unk"]?.boolValue ?? false
        byteFallback = json["byte_fallback"]?.boolValue ?? false
        ignoreMerges = json["ignore_merges"]?.boolValue ?? false
        // `dropout` is a training-time regularizer; inference uses the deterministic merges.
        if let unk = unkToken, let id = vocab[ExactString(unk)] { unkId = Int32(id) } else { unkId = nil }

        var fallback = [Int32](repeating: -1, count: 256)
        if byteFallback {
            for b in 0..<256 {
                if let id = vocab[ExactString(BPEModel.byteFallbackToken(UInt8(b)))] { fallback[b] = Int32(id) }
            }
        }
        byteFallbackIds = fallback

        let mergeList = json["merges"]?.arrayValue ?? []
        var table = BPEMergeTable(capacity: mergeList.count)
        let prefixBytes = continuingSubwordPrefix.utf8.count
        for (rank, entry) in mergeList.enumerated() {
            let a: String
            let b: String
            if let s = entry.stringValue {
                // Legacy "a b": split on the first space (tokens never contain a space there).
                let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("merge \(rank) '\(s)' is not two tokens separated by a space") }
                a = String(parts[0])
                b = String(parts[1])
            } else if let pair = entry.arrayValue, pair.count == 2, let x = pair[0].stringValue, let y = pair[1].stringValue {
                a = x
                b = y
            } else {
                throw fail("merge \(rank) is neither \"a b\" nor [a, b]")
            }
            guard let ia = vocab[ExactString(a)] else { throw fail("merge \(rank) uses '\(a)', which is not in the vocab") }
            guard let ib = vocab[ExactString(b)] else { throw fail("merge \(rank) uses '\(b)', which is not in the vocab") }
            // Strip the prefix by bytes: as Characters it could fuse with a following combining mark.
            let merged = prefixBytes > 0 && b.utf8.starts(with: continuingSubwordPrefix.utf8)
                ? a + String(decoding: b.utf8.dropFirst(prefixBytes), as: UTF8.self) : a + b
            guard let im = vocab[ExactString(merged)] else { throw fail("merge \(rank) makes '\(merged)', which is not in the vocab") }
            table.insert(Int32(ia), Int32(ib), rank: rank, merged: Int32(im))
        }
        merges = table
    }

    /// `<0xNN>` with upper-case hex, the byte-fallback token of a byte.
    static func byteFallbackToken(_ b: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "<0x\(hex[Int(b >> 4)])\(hex[Int(b & 15)])>"
    }

    var vocabSize: Int { vocab.count }

    func tokenToId(_ token: String) -> Int? { vocab[ExactString(token)] }

    func idToToken(_ id: Int) -> String? {
        guard id >= 0, id < vocabReverse.count else { return nil }
        return vocabReverse[id]
    }

    func tokenize(_ word: String, into ids: inout [Int]) {
        statePool.withState { tokenize(word, into: &ids, state: &$0) }
    }

    /// HF `BPE::tokenize` without dropout: whole-word shortcut under `ignore_merges`, the word cache, then
    /// the initial symbols (`merge_word`: per character, byte fallback, fused unknowns) and the merges.
    func tokenize(_ word: String, into ids: inout [Int], state: inout BPEEncodeState) {
        if word.isEmpty { return }
        let key = ExactString(word)
        if ignoreMerges, let id = vocab[key] {
            ids.append(id)
            return
        }
        if let cached = state.cache[key] {
            for id in cached { ids.append(Int(id)) }
            return
        }
        let symbols = mergeWord(word, scratch: &state.scratch)
        for s in symbols { ids.append(Int(s)) }
        if word.utf8.count < 256 {
            if state.cache.count >= 10_000 { state.cache.removeAll(keepingCapacity: true) }
            state.cache[key] = symbols
        }
    }

    /// The merged symbol ids of one word.
    private func mergeWord(_ word: String, scratch: inout BPEMergeScratch) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.utf8.count)
        var pendingUnk: Int32? = nil
        let scalars = Array(word.unicodeScalars)
        for (i, scalar) in scalars.enumerated() {
            var s = String(scalar)
            if i > 0 && !continuingSubwordPrefix.isEmpty { s = continuingSubwordPrefix + s }
            if i == scalars.count - 1 && !endOfWordSuffix.isEmpty { s += endOfWordSuffix }
            if let id = vocab[ExactString(s)] {
                if let unk = pendingUnk {
                    symbols.append(unk)
                    pendingUnk = nil
                }
                symbols.append(Int32(id))
                continue
            }
            if byteFallback {
                let fallback = s.utf8.map { byteFallbackIds[Int($0)] }
                if !fallback.contains(-1) {
                    // HF adds byte tokens without flushing a pending unknown first; keep its order.
                    symbols.append(contentsOf: fallback)
                    continue
                }
            }
            if let unkId {
                if let unk = pendingUnk, !fuseUnk { symbols.append(unk) }
                pendingUnk = unkId
            }
        }
        if let unk = pendingUnk { symbols.append(unk) }
        merges.mergeAll(&symbols, scratch: &scratch)
        return symbols
    }
}
