/// Character predicates with the exact meaning Hugging Face tokenizers gives them.
enum CharacterClasses {
    /// Binary search in sorted, non-overlapping ranges.
    @inline(__always)
    static func contains(_ table: [ClosedRange<UInt32>], _ value: UInt32) -> Bool {
        var lo = 0
        var hi = table.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let r = table[mid]
            if value < r.lowerBound {
                hi = mid
            } else if value > r.upperBound {
                lo = mid + 1
            } else {
                return true
            }
        }
        return false
    }

    /// Rust's `char::is_whitespace`: the Unicode White_Space property.
    @inline(__always)
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 {
            return s.value == 0x20 || (s.value >= 0x09 && s.value <= 0x0D)
        }
        return s.properties.isWhitespace
    }

    /// BertPreTokenizer / Punctuation: ASCII punctuation and symbols, plus Unicode punctuation (HF tables).
    @inline(__always)
    static func isBertPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x21 && v <= 0x2F) || (v >= 0x3A && v <= 0x40) || (v >= 0x5B && v <= 0x60)
                || (v >= 0x7B && v <= 0x7E)
        }
        return contains(HFUnicodeTables.bertPunctuation, v)
    }

    /// Rust's `char::is_numeric`: general categories Nd, Nl and No.
    @inline(__always)
    static func isNumeric(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value >= 0x30 && s.value <= 0x39 }
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// The Unicode `\w` of the Whitespace pre-tokenizer's `\w+|[^\w\s]+` (Rust regex, UTS #18): Alphabetic,
    /// marks, decimal digits, connector punctuation and join controls. HF's tables are Unicode 16, so
    /// characters assigned later are not word characters there.
    @inline(__always)
    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        let p = s.properties
        if let age = p.age, age.major > 16 { return false }
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// BertNormalizer's `is_control`: characters clean_text deletes (tab, CR and LF count as whitespace).
    @inline(__always)
    static func isBertControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x09 || v == 0x0A || v == 0x0D { return false }
        if v < 0x20 || v == 0x7F { return true }
        if v < 0x80 { return false }
        return contains(HFUnicodeTables.bertControl, v)
    }

    /// StripAccents' combining marks (HF tables).
    @inline(__always)
    static func isCombiningMark(_ s: Unicode.Scalar) -> Bool {
        s.value >= 0x300 && contains(HFUnicodeTables.combiningMark, s.value)
    }

    /// BertNormalizer's strip_accents marks (nonspacing marks, HF tables).
    @inline(__always)
    static func isBertAccent(_ s: Unicode.Scalar) -> Bool {
        s.value >= 0x300 && contains(HFUnicodeTables.bertAccent, s.value)
    }

    /// The CJK ideograph blocks BertNormalizer pads with spaces.
    @inline(__always)
    static func isChineseCharacter(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v)
            || (0x2B920...0x2CEAF).contains(v) || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
