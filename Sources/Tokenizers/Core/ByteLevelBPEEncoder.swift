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
    private let merges: BPEMergeTable
    /// Stands in for a state's cache while `encode` works on it (copying it only retains).
    private let placeholderCache = ByteSequenceTable(initialCapacity: 0)
    /// The id of each byte's single-character token; -1 for a byte the vocabulary lacks, which HF drops
    /// (the model has no unk token then, or the fast path is not used).
    private let byteIds: [Int32]
    /// Whether some byte has no token (so symbols must be filtered).
    private let hasMissingBytes: Bool
    /// Raw-bytes vocabulary for `ignore_merges` (empty and unused when merges are never skipped).
    private let vocabBytes: ByteSequenceTable
    private let ignoreMerges: Bool
    /// Word caches handed to concurrent encoders one each, so no cache is shared between threads.
    private let cachePool = Mutex<[EncodeState]>([])

    /// Per-call mutable state: the word cache and merge scratch.
    struct EncodeState: Sendable {
        var cache = ByteSequenceTable(initialCapacity: 4096, maxEntries: 200_000)
        var symbols: [Int32] = []
        var ends: [Int] = []
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
                guard let raw = ByteLevelAlphabet.decode(token.value) else { continue }
                raw.withUnsafeBufferPointer { key in
                    let h = ByteSequenceTable.hash(key)
                    if table.find(key, hash: h) >= 0 { return }
                    var value = Int32(id)
                    withUnsafePointer(to: &value) { table.insert(key, hash: h, values: UnsafeBufferPointer(start: $0, count: 1)) }
                }
            }
            vocabBytes = table
        } else {
            vocabBytes = ByteSequenceTable(initialCapacity: 1)
        }
        ignoreMerges = model.ignoreMerges
        scanner = PatternScanner(pattern)
        addPrefixSpace = prefixSpace
        self.model = model
        merges = model.merges
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
        // Scan first, then tokenize the pieces in a plain loop (no closure captures the mutable state).
        state.ends.removeAll(keepingCapacity: true)
        scanner.split(s, ends: &state.ends)
        // Work on locals moved out of `state`: method calls on a struct reached through an inout
        // capture are made on a copy (retaining every array), which dominated the profile.
        var cache = placeholderCache
        swap(&cache, &state.cache)
        var symbols = state.symbols
        state.symbols = []
        let ends = state.ends
        defer {
            swap(&cache, &state.cache)
            state.symbols = symbols
        }
        byteIds.withUnsafeBufferPointer { byteIds in
            var start = 0
            for end in ends {
                defer { start = end }
                if end - start == 1 {
                    let id = byteIds[Int(s[start])]
                    if id >= 0 { ids.append(Int(id)) }
                    continue
                }
                let piece = UnsafeBufferPointer(rebasing: s[start..<end])
                if ignoreMerges, let id = vocabBytes.singleValue(for: piece) {
                    ids.append(Int(id))
                    continue
                }
                let h = ByteSequenceTable.hash(piece)
                let entry = cache.find(piece, hash: h)
                if entry >= 0 {
                    cache.appendValues(of: entry, to: &ids)
                    continue
                }
                symbols.removeAll(keepingCapacity: true)
                if hasMissingBytes {
                    for b in piece where byteIds[Int(b)] >= 0 { symbols.append(byteIds[Int(b)]) }
                } else {
                    for b in piece { symbols.append(byteIds[Int(b)]) }
                }
                merges.mergeAll(&symbols, scratch: &state.scratch)
                for id in symbols { ids.append(Int(id)) }
                symbols.withUnsafeBufferPointer { cache.insert(piece, hash: h, values: $0) }
            }
        }
    }
}
