import JSON

/// GPT-2's reversible byte ↔ printable-character alphabet (`bytes_to_unicode`): bytes 33–126, 161–172 and
/// 174–255 stand for themselves, the other 68 bytes for U+0100 + n in byte order.
enum ByteLevelAlphabet {
    /// The scalar that stands for each byte.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var extra: UInt32 = 0
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            let value = printable ? UInt32(b) : 256 + extra
            if !printable { extra += 1 }
            table[b] = Unicode.Scalar(value) ?? " "
        }
        return table
    }()

    /// The byte each alphabet scalar stands for, indexed by scalar value (0..<324); -1 outside the alphabet.
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (b, scalar) in byteToScalar.enumerated() { table[Int(scalar.value)] = Int16(b) }
        return table
    }()

    /// The alphabet string of raw bytes (what vocab and merges are written in).
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(byteToScalar[Int(b)]) }
        return String(scalars)
    }

    /// The raw bytes of an alphabet string, or nil when it holds a character outside the alphabet.
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            let v = Int(scalar.value)
            guard v < scalarToByte.count, scalarToByte[v] >= 0 else { return nil }
            out.append(UInt8(scalarToByte[v]))
        }
        return out
    }
}

/// tokenizer.json `ByteLevel` pre-tokenizer: optionally prepends a space, optionally splits with the GPT-2
/// regex (by the hand-written scanner), then rewrites every piece in the byte alphabet.
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool

    init(json: JSONValue) throws {
        addPrefixSpace = json["add_prefix_space"]?.boolValue ?? true
        useRegex = json["use_regex"]?.boolValue ?? true
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        let scanner = PatternScanner(.gpt2)
        var out: [PreToken] = []
        out.reserveCapacity(pieces.count)
        for piece in pieces {
            var text = piece.text
            if addPrefixSpace && !text.hasPrefix(" ") { text = " " + text }
            var bytes = Array(text.utf8)
            if !useRegex {
                out.append(PreToken(text: ByteLevelAlphabet.encode(bytes), atTextStart: piece.atTextStart))
                continue
            }
            bytes.withUnsafeMutableBufferPointer { buffer in
                let s = UnsafeBufferPointer(buffer)
                scanner.split(s) { start, end in
                    out.append(PreToken(text: ByteLevelAlphabet.encode(s[start..<end]),
                                        atTextStart: piece.atTextStart && start == 0))
                }
            }
        }
        return out
    }
}

/// tokenizer.json `ByteLevel` decoder: maps alphabet characters back to bytes and decodes them as UTF-8
/// (invalid sequences become U+FFFD). A token with a character outside the alphabet (an added token) is
/// taken as its own UTF-8 bytes, as HF does.
struct ByteLevelDecoder: TokenDecoder {
    init(json: JSONValue) throws {}
    init() {}

    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            if let raw = ByteLevelAlphabet.decode(token) {
                bytes.append(contentsOf: raw)
            } else {
                bytes.append(contentsOf: token.utf8)
            }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

/// tokenizer.json `ByteLevel` post-processor: only adjusts offsets in HF; ids are unchanged.
struct ByteLevelPostProcessor: PostProcessor {
    init(json: JSONValue) throws {}

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] { ids }
}

/// A `Split` pre-tokenizer (behavior Isolated, not inverted) whose regex is one of the `ScannerPattern`s,
/// run by the hand-written scanner instead of a regex engine.
struct ScannerPreTokenizer: PreTokenizer {
    let scanner: PatternScanner

    /// Returns nil unless `splitJSON` is a Split with a scanner pattern, `Isolated` and `invert: false`.
    init?(splitJSON json: JSONValue) {
        guard json["type"]?.stringValue == "Split",
              let regex = json["pattern"]?["Regex"]?.stringValue,
              let pattern = ScannerPattern(regex: regex),
              json["behavior"]?.stringValue == "Isolated",
              (json["invert"]?.boolValue ?? false) == false
        else { return nil }
        scanner = PatternScanner(pattern)
    }

    init(pattern: ScannerPattern) {
        scanner = PatternScanner(pattern)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var out: [PreToken] = []
        out.reserveCapacity(pieces.count)
        for piece in pieces {
            var text = piece.text
            text.withUTF8 { s in
                scanner.split(s) { start, end in
                    let slice = UnsafeBufferPointer(rebasing: s[start..<end])
                    out.append(PreToken(text: String(decoding: slice, as: UTF8.self),
                                        atTextStart: piece.atTextStart && start == 0))
                }
            }
        }
        return out
    }
}
