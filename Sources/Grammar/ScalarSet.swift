/// A set of Unicode code points stored as sorted, disjoint, non-adjacent closed ranges.
///
/// Code points are `UInt32` in `0...0x10FFFF`; surrogates may appear in a set (Python `str` patterns allow
/// them) but are dropped when the set is compiled to UTF-8, since no UTF-8 text contains them.
public struct ScalarSet: Sendable, Hashable {
    /// The largest Unicode code point.
    public static let maxCodePoint: UInt32 = 0x10FFFF
    /// Sorted, disjoint, non-adjacent ranges.
    public private(set) var ranges: [ClosedRange<UInt32>]

    /// The empty set.
    public init() { ranges = [] }

    /// The union of `ranges` (any order, overlaps allowed).
    public init(_ ranges: [ClosedRange<UInt32>]) {
        self.ranges = Self.normalize(ranges)
    }

    /// The set of one code point.
    public init(scalar: UInt32) { ranges = [scalar...scalar] }

    /// Every code point.
    public static let all = ScalarSet([0...maxCodePoint])

    /// Whether the set has no member.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `c` is a member (binary search).
    public func contains(_ c: UInt32) -> Bool {
        var lo = 0, hi = ranges.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if ranges[mid].upperBound < c { lo = mid + 1 } else if ranges[mid].lowerBound > c { hi = mid - 1 } else { return true }
        }
        return false
    }

    /// The single code point of a one-element set.
    var singleScalar: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }

    /// Members of either set.
    public func union(_ other: ScalarSet) -> ScalarSet { ScalarSet(ranges + other.ranges) }

    /// The complement within 0...0x10FFFF.
    public func inverted() -> ScalarSet {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
            if r.upperBound == Self.maxCodePoint { next = Self.maxCodePoint + 1 }
        }
        if next <= Self.maxCodePoint { out.append(next...Self.maxCodePoint) }
        var s = ScalarSet()
        s.ranges = out
        return s
    }

    /// Members of this set that are not in `other`.
    public func subtracting(_ other: ScalarSet) -> ScalarSet { inverted().union(other).inverted() }

    private static func normalize(_ input: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = input.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        out.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }
}

// MARK: - Python `re` character classes (str patterns, Unicode semantics)

extension ScalarSet {
    /// `\d`: Python's `str.isdecimal()` characters (general category Nd), as Python `re` uses for str patterns.
    public static let pythonDigit: ScalarSet = buildTable { $0.numericType == .decimal }

    /// `\w`: `str.isalnum()` or `_` — letters (L*), and characters with any Unicode numeric type.
    public static let pythonWord: ScalarSet = buildTable { p in
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return p.numericType != nil
        }
    }.union(ScalarSet(scalar: 0x5F))

    /// `\s`: `str.isspace()` — the White_Space property plus the information separators U+001C–U+001F
    /// (bidi class B/S), which is exactly CPython's table.
    public static let pythonSpace = ScalarSet([
        0x09...0x0D, 0x1C...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
        0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
    ])

    /// `.` without DOTALL: everything except `\n`.
    public static let dot = ScalarSet(scalar: 0x0A).inverted()

    private static func buildTable(_ predicate: (Unicode.Scalar.Properties) -> Bool) -> ScalarSet {
        var out: [ClosedRange<UInt32>] = []
        // Planes 4-13 are unassigned and planes 15-16 are private use (category Co): neither holds letters,
        // numbers or spaces, so only planes 0-3 and 14 are scanned.
        for span: ClosedRange<UInt32> in [0...0x3FFFF, 0xE0000...0xEFFFF] {
            var start: UInt32? = nil
            for c in span {
                let member: Bool
                if let scalar = Unicode.Scalar(c) { member = predicate(scalar.properties) } else { member = false }
                if member {
                    if start == nil { start = c }
                } else if let s = start {
                    out.append(s...(c - 1))
                    start = nil
                }
            }
            if let s = start { out.append(s...span.upperBound) }
        }
        var set = ScalarSet()
        set.ranges = out
        return set
    }
}

// MARK: - UTF-8 byte-range sequences

/// One UTF-8 encoding path: a byte range per position (1 to 4 positions).
struct UTF8Sequence: Equatable {
    var ranges: [ClosedRange<UInt8>]
}

extension ScalarSet {
    /// The set as a list of UTF-8 byte-range sequences whose union encodes exactly the non-surrogate members.
    func utf8Sequences() -> [UTF8Sequence] {
        var out: [UTF8Sequence] = []
        for r in ranges {
            // Drop surrogates: they have no UTF-8 encoding.
            if r.lowerBound < 0xD800 {
                Self.appendSequences(r.lowerBound, min(r.upperBound, 0xD7FF), into: &out)
            }
            if r.upperBound > 0xDFFF {
                Self.appendSequences(max(r.lowerBound, 0xE000), r.upperBound, into: &out)
            }
        }
        return out
    }

    private static func appendSequences(_ lo: UInt32, _ hi: UInt32, into out: inout [UTF8Sequence]) {
        guard lo <= hi else { return }
        // Split on encoded-length boundaries first.
        for boundary: UInt32 in [0x7F, 0x7FF, 0xFFFF] where lo <= boundary && hi > boundary {
            appendSequences(lo, boundary, into: &out)
            appendSequences(boundary + 1, hi, into: &out)
            return
        }
        if hi <= 0x7F {
            out.append(UTF8Sequence(ranges: [UInt8(lo)...UInt8(hi)]))
            return
        }
        let n = encodedLength(lo)
        // Split until every continuation position spans a full 0x80...0xBF block or a single prefix.
        for i in 1..<n {
            let m: UInt32 = (1 << (6 * UInt32(i))) - 1
            if lo & ~m != hi & ~m {
                if lo & m != 0 {
                    appendSequences(lo, lo | m, into: &out)
                    appendSequences((lo | m) + 1, hi, into: &out)
                    return
                }
                if hi & m != m {
                    appendSequences(lo, (hi & ~m) - 1, into: &out)
                    appendSequences(hi & ~m, hi, into: &out)
                    return
                }
            }
        }
        let a = encode(lo), b = encode(hi)
        out.append(UTF8Sequence(ranges: zip(a, b).map { $0...$1 }))
    }

    static func encodedLength(_ c: UInt32) -> Int {
        c <= 0x7F ? 1 : c <= 0x7FF ? 2 : c <= 0xFFFF ? 3 : 4
    }

    static func encode(_ c: UInt32) -> [UInt8] {
        switch encodedLength(c) {
        case 1: return [UInt8(c)]
        case 2: return [UInt8(0xC0 | (c >> 6)), UInt8(0x80 | (c & 0x3F))]
        case 3: return [UInt8(0xE0 | (c >> 12)), UInt8(0x80 | ((c >> 6) & 0x3F)), UInt8(0x80 | (c & 0x3F))]
        default:
            return [UInt8(0xF0 | (c >> 18)), UInt8(0x80 | ((c >> 12) & 0x3F)), UInt8(0x80 | ((c >> 6) & 0x3F)),
                    UInt8(0x80 | (c & 0x3F))]
        }
    }
}
