import Foundation
import JSON

/// `Precompiled`: SentencePiece's compiled normalization rules (`precompiled_charsmap`, e.g. nmt_nfkc in
/// T5/ALBERT/XLM-R). The blob is `u32 trie size | darts-clone double-array trie | NUL-separated
/// replacement strings`; the trie maps a byte string to the offset of its replacement.
///
/// HF (like SentencePiece) rewrites each grapheme cluster shorter than 6 bytes whose bytes start with a
/// rule as a whole; otherwise it rewrites its characters one by one. "Start with" is literal: the
/// shortest rule that is a prefix of the chunk applies.
struct PrecompiledNormalizer: Normalizer {
    private let trie: [UInt32]
    private let replacements: [UInt8]

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "normalizer", json: json)
        let encoded = try f.optionalString("precompiled_charsmap") ?? ""
        guard !encoded.isEmpty else {
            trie = []
            replacements = []
            return
        }
        guard let data = Data(base64Encoded: encoded) else {
            throw f.invalid("precompiled_charsmap is not valid base64")
        }
        let blob = [UInt8](data)
        guard blob.count >= 4 else { throw f.invalid("precompiled_charsmap is shorter than its 4-byte header") }
        let trieBytes = Int(UInt32(blob[0]) | UInt32(blob[1]) << 8 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 24)
        guard trieBytes % 4 == 0, 4 + trieBytes <= blob.count else {
            throw f.invalid("precompiled_charsmap trie size \(trieBytes) does not fit the \(blob.count)-byte blob")
        }
        var units: [UInt32] = []
        units.reserveCapacity(trieBytes / 4)
        var i = 4
        while i < 4 + trieBytes {
            units.append(UInt32(blob[i]) | UInt32(blob[i + 1]) << 8 | UInt32(blob[i + 2]) << 16 | UInt32(blob[i + 3]) << 24)
            i += 4
        }
        trie = units
        replacements = Array(blob[(4 + trieBytes)...])
        guard String(validating: replacements, as: UTF8.self) != nil else {
            throw f.invalid("precompiled_charsmap replacement strings are not valid UTF-8")
        }
    }

    /// The value of the shortest key in the trie that is a prefix of `key` (darts-clone common prefix search).
    private func firstPrefixValue(_ key: some Collection<UInt8>) -> Int? {
        guard !trie.isEmpty else { return nil }
        @inline(__always) func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
        var pos = offset(trie[0])
        for c in key {
            if c == 0 { return nil }
            pos ^= Int(c)
            guard pos >= 0 && pos < trie.count else { return nil }
            let unit = trie[pos]
            if unit & ((1 << 31) | 0xFF) != UInt32(c) { return nil }
            pos ^= offset(unit)
            if (unit >> 8) & 1 == 1 {
                guard pos >= 0 && pos < trie.count else { return nil }
                return Int(trie[pos] & ((1 << 31) - 1))
            }
        }
        return nil
    }

    /// The replacement bytes for `chunk`, or nil when no rule applies.
    private func transform(_ chunk: some Collection<UInt8>) -> ArraySlice<UInt8>? {
        guard let start = firstPrefixValue(chunk), start <= replacements.count else { return nil }
        var end = start
        while end < replacements.count && replacements[end] != 0 { end += 1 }
        return replacements[start..<end]
    }

    func normalize(_ text: String) -> String {
        guard !trie.isEmpty else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var bytes: [UInt8] = []
        for grapheme in text {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: grapheme.utf8)
            if bytes.count < 6, let norm = transform(bytes) {
                out.append(contentsOf: norm)
                continue
            }
            // Character by character: UTF-8 lead bytes give each scalar's length.
            var i = 0
            while i < bytes.count {
                let lead = bytes[i]
                let width = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                let part = bytes[i..<min(i + width, bytes.count)]
                if let norm = transform(part) {
                    out.append(contentsOf: norm)
                } else {
                    out.append(contentsOf: part)
                }
                i += width
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
