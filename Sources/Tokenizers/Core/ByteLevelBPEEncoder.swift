import JSON
import Synchronization

/// The fast path for the common tokenizer shape — byte-level BPE behind a GPT-2/Llama-3/Qwen2 split — that
/// works on UTF-8 bytes end to end: the scanner yields byte ranges, each byte maps straight to its initial
/// symbol id, merges run on ids, and finished words are cached by their bytes. Produces exactly the ids of
/// the generic pipeline (`ByteLevel` pre-tokenizer + `BPEModel`).
final class ByteLevelBPEEncoder: Sendable {
    let scanner: PatternScanner
    let addPrefixSpace: Bool
    let model: BPEModel
    /// The id of each byte's single-character token; -1 for a byte the vocabulary lacks, which HF drops
    /// (the model has no unk token then, or the fast path is not used).
    private let byteIds: [Int32]
    /// Whether some byte has no token (so symbols must be filtered).
    private let hasMissingBytes: Bool
    /// Raw-bytes vocabulary for `ignore_merges` (nil when merges are never skipped).
    private let vocabBytes: ByteSequenceTable?
    /// Word caches handed to concurrent encoders one each, so no cache is shared between threads.
    private let cachePool = Mutex<[EncodeState]>([])

    /// Per-call mutable state: the word cache and merge scratch.
    struct EncodeState: Sendable {
        var cache = ByteSequenceTable(initialCapacity: 4096, maxEntries: 200_000)
        var symbols: [Int32] = []
        var scratch = BPEMergeScratch()
    }

    /// Returns nil unless `preTokenizer` JSON is `ByteLevel(use_regex)` or `Sequence[Split(scanner pattern),
    /// ByteLevel(use_regex: false)]` and the model is a plain byte-level BPE (every byte in the vocabulary,
    /// no prefix/suffix, no byte fallback).
    init?(preTokenizer: JSONValue?, model: BPEModel) {
        guard let pre = preTokenizer, let type = pre["type"]?.stringValue else { return nil }
        var pattern: ScannerPattern
        var prefixSpace: Bool
        if type == "ByteLevel" {
            guard pre["use_regex"]?.boolValue ?? true else { return nil }
            pattern = .gpt2
            prefixSpace = pre["add_prefix_space"]?.boolValue ?? true
        } else if type == "Sequence", let children = pre["pretokenizers"]?.arrayValue, children.count == 2,
                  let split = ScannerPreTokenizer(splitJSON: children[0]),
                  children[1]["type"]?.stringValue == "ByteLevel",
                  (children[1]["use_regex"]?.boolValue ?? true) == false,
                  (children[1]["add_prefix_space"]?.boolValue ?? true) == false {
            pattern = split.scanner.pattern
            prefixSpace = false
        } else {
            return nil
        }
        guard model.continuingSubwordPrefix.isEmpty, model.endOfWordSuffix.isEmpty, !model.byteFallback else {
            return nil
        }
        var ids = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = model.tokenToId(String(ByteLevelAlphabet.byteToScalar[b])) {
                ids[b] = Int32(id)
            } else if model.unkToken != nil {
                return nil
            }
        }
        hasMissingBytes = ids.contains(-1)
        if model.ignoreMerges {
            var table = ByteSequenceTable(initialCapacity: model.vocab.count)
            for (token, id) in model.vocab {
                guard let raw = ByteLevelAlphabet.decode(token) else { continue }
                raw.withUnsafeBufferPointer { key in
                    let h = ByteSequenceTable.hash(key)
                    if table.withValue(for: key, hash: h, { _ in }) { return }
                    var value = Int32(id)
                    withUnsafePointer(to: &value) { table.insert(key, hash: h, values: UnsafeBufferPointer(start: $0, count: 1)) }
                }
            }
            vocabBytes = table
        } else {
            vocabBytes = nil
        }
        scanner = PatternScanner(pattern)
        addPrefixSpace = prefixSpace
        self.model = model
        byteIds = ids
    }

    /// Takes a state from the pool (or a new one), runs `body`, and returns the state to the pool.
    func withState<R>(_ body: (inout EncodeState) -> R) -> R {
        var state = cachePool.withLock { pool in pool.popLast() } ?? EncodeState()
        let result = body(&state)
        cachePool.withLock { pool in
            if pool.count < 8 { pool.append(state) }
        }
        return result
    }

    /// Appends the ids of one text segment (no added tokens inside) to `ids`.
    func encode(_ text: String, into ids: inout [Int], state: inout EncodeState) {
        var text = text
        if addPrefixSpace && !text.hasPrefix(" ") { text = " " + text }
        text.withUTF8 { s in encode(bytes: s, into: &ids, state: &state) }
    }

    func encode(bytes s: UnsafeBufferPointer<UInt8>, into ids: inout [Int], state: inout EncodeState) {
        let byteIds = self.byteIds
        byteIds.withUnsafeBufferPointer { byteIds in
            scanner.split(s) { start, end in
                if end - start == 1 {
                    let id = byteIds[Int(s[start])]
                    if id >= 0 { ids.append(Int(id)) }
                    return
                }
                let piece = UnsafeBufferPointer(rebasing: s[start..<end])
                if let vocabBytes, let id = vocabBytes.singleValue(for: piece) {
                    ids.append(Int(id))
                    return
                }
                let h = ByteSequenceTable.hash(piece)
                let hit = state.cache.withValue(for: piece, hash: h) { cached in
                    for id in cached { ids.append(Int(id)) }
                }
                if hit { return }
                state.symbols.removeAll(keepingCapacity: true)
                if hasMissingBytes {
                    for b in piece where byteIds[Int(b)] >= 0 { state.symbols.append(byteIds[Int(b)]) }
                } else {
                    for b in piece { state.symbols.append(byteIds[Int(b)]) }
                }
                model.merges.mergeAll(&state.symbols, scratch: &state.scratch)
                for id in state.symbols { ids.append(Int(id)) }
                state.symbols.withUnsafeBufferPointer { state.cache.insert(piece, hash: h, values: $0) }
            }
        }
    }
}
