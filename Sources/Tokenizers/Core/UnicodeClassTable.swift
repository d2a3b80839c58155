/// The character classes the pre-tokenizer regexes distinguish: `\p{L}`, `\p{N}`, `\s`, anything else.
enum CharClass: UInt8, Sendable {
    case other = 0
    case letter = 1
    case number = 2
    case space = 3
}

/// A two-level lookup table code point → `CharClass` (the classes HF's Oniguruma gives), built once from
/// the generated transitions in `UnicodeCategoryData.swift` (256-code-point blocks, identical blocks shared).
struct UnicodeClassTable: Sendable {
    /// Raw pointers to the shared tables for the scanners' hot loops: the tables are built once, never
    /// mutated and never freed, so reading them needs no reference counting or lazy-init checks.
    struct Pointers: @unchecked Sendable {
        let ascii: UnsafePointer<UInt8>
        let stage1: UnsafePointer<UInt16>
        let stage2: UnsafePointer<UInt8>

        @inline(__always)
        func rawClass(_ cp: UInt32) -> UInt8 {
            guard cp < 0x110000 else { return 0 }
            return stage2[Int(stage1[Int(cp >> 8)]) << 8 | Int(cp & 0xFF)]
        }
    }

    static let pointers: Pointers = {
        let table = shared
        let ascii = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
        for b in 0..<128 { ascii[b] = table.rawClass(UInt32(b)) }
        let s1 = UnsafeMutablePointer<UInt16>.allocate(capacity: table.stage1.count)
        s1.initialize(from: table.stage1, count: table.stage1.count)
        let s2 = UnsafeMutablePointer<UInt8>.allocate(capacity: table.stage2.count)
        s2.initialize(from: table.stage2, count: table.stage2.count)
        return Pointers(ascii: ascii, stage1: s1, stage2: s2)
    }()

    static let shared = UnicodeClassTable(transitions: unicodeClassTransitions)

    /// Block index per 256 code points (0x1100 blocks cover U+0000...U+10FFFF).
    private let stage1: [UInt16]
    /// Concatenated 256-entry blocks of class raw values.
    private let stage2: [UInt8]

    init(transitions: String) {
        // Expand the transitions into one class per code point, a block at a time.
        var starts: [UInt32] = []
        var classes: [UInt8] = []
        for item in transitions.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let start = UInt32(parts[0], radix: 16), let cls = UInt8(parts[1]) else { continue }
            starts.append(start)
            classes.append(cls)
        }
        var s1 = [UInt16](repeating: 0, count: 0x1100)
        var s2: [UInt8] = []
        var blockIndex: [[UInt8]: UInt16] = [:]
        var t = 0
        var block = [UInt8](repeating: 0, count: 256)
        for b in 0..<0x1100 {
            for i in 0..<256 {
                let cp = UInt32(b * 256 + i)
                while t + 1 < starts.count && starts[t + 1] <= cp { t += 1 }
                block[i] = t < classes.count ? classes[t] : 0
            }
            if let existing = blockIndex[block] {
                s1[b] = existing
            } else {
                let index = UInt16(s2.count / 256)
                blockIndex[block] = index
                s2.append(contentsOf: block)
                s1[b] = index
            }
        }
        stage1 = s1
        stage2 = s2
    }

    /// The class of a Unicode scalar value (values past U+10FFFF are `.other`).
    @inline(__always)
    func classOf(_ cp: UInt32) -> CharClass {
        guard cp < 0x110000 else { return .other }
        let block = Int(stage1[Int(cp >> 8)])
        return CharClass(rawValue: stage2[block << 8 | Int(cp & 0xFF)]) ?? .other
    }

    /// The raw class value of a code point, without the enum wrapping (hot loops).
    @inline(__always)
    func rawClass(_ cp: UInt32) -> UInt8 {
        guard cp < 0x110000 else { return 0 }
        return stage2[Int(stage1[Int(cp >> 8)]) << 8 | Int(cp & 0xFF)]
    }
}
