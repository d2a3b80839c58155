/// DEFLATE (RFC 1951) and zlib (RFC 1950) decompression: stored, fixed-Huffman and dynamic-Huffman blocks.
///
/// Every read is bounds-checked and the output never grows past the caller's limit, so a hostile stream
/// can neither crash the process nor make it allocate without bound.
public enum Inflate {
    /// Decompresses a zlib stream (2-byte header, DEFLATE data, Adler-32 trailer).
    ///
    /// - Parameters:
    ///   - maxOutput: the most bytes to produce. With `stopWhenFull`, output past this is decoded (so the
    ///     checksum is still verified) but discarded, as PNG readers ignore surplus data; otherwise it is an error.
    /// - Returns: the decompressed bytes (at most `maxOutput`).
    public static func zlibDecompress(_ data: [UInt8], maxOutput: Int, stopWhenFull: Bool = false) throws -> [UInt8] {
        guard data.count >= 2 else { throw ImagingError.truncated("zlib header") }
        let cmf = Int(data[0]), flg = Int(data[1])
        guard cmf & 0x0F == 8, cmf >> 4 <= 7 else { throw ImagingError.corrupt("zlib: compression method is not deflate") }
        guard (cmf << 8 | flg) % 31 == 0 else { throw ImagingError.corrupt("zlib: header check bits") }
        guard flg & 0x20 == 0 else { throw ImagingError.unsupported("zlib preset dictionary") }
        var inflater = Inflater(maxOutput: maxOutput, stopWhenFull: stopWhenFull)
        let (output, endOffset, complete) = try data.withUnsafeBufferPointer { try inflater.run($0, start: 2) }
        if complete {
            guard endOffset + 4 <= data.count else { throw ImagingError.truncated("zlib: missing Adler-32 checksum") }
            let expected = UInt32(data[endOffset]) << 24 | UInt32(data[endOffset + 1]) << 16
                | UInt32(data[endOffset + 2]) << 8 | UInt32(data[endOffset + 3])
            guard adler32(output) == expected else { throw ImagingError.corrupt("zlib: Adler-32 checksum mismatch") }
        }
        return output
    }

    /// Decompresses raw DEFLATE data (no header or trailer).
    public static func inflate(_ data: [UInt8], maxOutput: Int) throws -> [UInt8] {
        var inflater = Inflater(maxOutput: maxOutput, stopWhenFull: false)
        return try data.withUnsafeBufferPointer { try inflater.run($0, start: 0) }.0
    }

    /// The Adler-32 checksum of `bytes`.
    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        bytes.withUnsafeBufferPointer { buf in
            var i = 0
            while i < buf.count {
                let end = min(buf.count, i + 5552)  // largest run before the sums can overflow
                while i < end { a &+= UInt32(buf[i]); b &+= a; i += 1 }
                a %= 65521; b %= 65521
            }
        }
        return b << 16 | a
    }
}

/// A canonical Huffman code with a 9-bit lookup table and a bit-serial fallback for longer codes.
struct HuffmanDecoder {
    static let fastBits = 9
    /// Indexed by the next `fastBits` input bits (LSB-first): `symbol << 4 | length`, 0 when the code is longer.
    var fast = [UInt16](repeating: 0, count: 1 << fastBits)
    /// Number of codes per length 0...15.
    var counts = [Int](repeating: 0, count: 16)
    /// Symbols in canonical order.
    var symbols: [UInt16] = []

    /// Builds the code from per-symbol code lengths (0 = unused); throws when the lengths over-subscribe the code space.
    init(lengths: ArraySlice<UInt8>) throws {
        for l in lengths { counts[Int(l)] += 1 }
        counts[0] = 0
        var left = 1
        for len in 1...15 {
            left <<= 1
            left -= counts[len]
            guard left >= 0 else { throw ImagingError.corrupt("deflate: over-subscribed Huffman code") }
        }
        var offsets = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
        symbols = [UInt16](repeating: 0, count: lengths.count)
        for (i, l) in lengths.enumerated() where l != 0 {
            symbols[offsets[Int(l)]] = UInt16(i)
            offsets[Int(l)] += 1
        }
        // Canonical codes, MSB-first; the stream stores them bit-reversed.
        var code = 0, index = 0
        for len in 1...15 {
            for _ in 0..<counts[len] {
                if len <= Self.fastBits {
                    var rev = 0
                    for b in 0..<len where code & (1 << b) != 0 { rev |= 1 << (len - 1 - b) }
                    let entry = symbols[index] << 4 | UInt16(len)
                    var fill = rev
                    while fill < 1 << Self.fastBits { fast[fill] = entry; fill += 1 << len }
                }
                code += 1; index += 1
            }
            code <<= 1
        }
    }
}

/// The DEFLATE state machine over one input buffer.
struct Inflater {
    let maxOutput: Int
    let stopWhenFull: Bool
    var out: [UInt8] = []
    /// Bytes the stream has produced, including any discarded past `maxOutput`.
    var total = 0
    var bitBuf: UInt64 = 0
    var bitCount = 0
    var pos = 0

    init(maxOutput: Int, stopWhenFull: Bool) {
        self.maxOutput = max(0, maxOutput)
        self.stopWhenFull = stopWhenFull
        out.reserveCapacity(min(self.maxOutput, 1 << 26))
    }

    /// Refills so at least `n` (≤ 32) bits are buffered; past the end it pads with zeros and tracks the overrun.
    @inline(__always) mutating func need(_ n: Int, _ input: UnsafeBufferPointer<UInt8>) {
        while bitCount < n {
            let byte: UInt64 = pos < input.count ? UInt64(input[pos]) : 0
            pos += 1
            bitBuf |= byte << UInt64(bitCount)
            bitCount += 8
        }
    }

    @inline(__always) mutating func bits(_ n: Int, _ input: UnsafeBufferPointer<UInt8>) throws -> Int {
        if n == 0 { return 0 }
        need(n, input)
        let v = Int(bitBuf & ((1 << UInt64(n)) - 1))
        bitBuf >>= UInt64(n)
        bitCount -= n
        if pos - bitCount / 8 > input.count { throw ImagingError.truncated("deflate stream ends early") }
        return v
    }

    @inline(__always) mutating func decode(_ h: HuffmanDecoder, _ input: UnsafeBufferPointer<UInt8>) throws -> Int {
        need(16, input)
        let entry = h.fast[Int(bitBuf & UInt64((1 << HuffmanDecoder.fastBits) - 1))]
        var len = 0, symbol = -1
        if entry != 0 {
            len = Int(entry & 15); symbol = Int(entry >> 4)
        } else {
            var code = 0, first = 0, index = 0
            for l in 1...15 {
                code |= Int((bitBuf >> UInt64(l - 1)) & 1)
                let count = h.counts[l]
                if code - first < count { len = l; symbol = Int(h.symbols[index + code - first]); break }
                index += count; first += count; first <<= 1; code <<= 1
            }
            guard symbol >= 0 else { throw ImagingError.corrupt("deflate: invalid Huffman code") }
        }
        bitBuf >>= UInt64(len)
        bitCount -= len
        if pos - bitCount / 8 > input.count { throw ImagingError.truncated("deflate stream ends early") }
        return symbol
    }

    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Runs to the final block; with `stopWhenFull`, output past `maxOutput` is decoded but not kept.
    /// Returns the output, the byte offset just past the DEFLATE data, and whether the final block was reached.
    mutating func run(_ input: UnsafeBufferPointer<UInt8>, start: Int) throws -> ([UInt8], Int, Bool) {
        pos = start
        let fixed = try Self.fixedCodes()
        while true {
            let final = try bits(1, input)
            let type = try bits(2, input)
            switch type {
            case 0:
                // Stored: drop to a byte boundary, then LEN / NLEN.
                let drop = bitCount % 8
                bitBuf >>= UInt64(drop); bitCount -= drop
                let len = try bits(16, input), nlen = try bits(16, input)
                guard len == (~nlen & 0xFFFF) else { throw ImagingError.corrupt("deflate: stored block length check") }
                // Any whole bytes still buffered come first.
                var remaining = len
                while remaining > 0 && bitCount >= 8 {
                    try emit(UInt8(try bits(8, input)))
                    remaining -= 1
                }
                guard pos + remaining <= input.count else { throw ImagingError.truncated("deflate stored block") }
                let take = stopWhenFull ? min(remaining, max(0, maxOutput - out.count)) : remaining
                guard out.count + take <= maxOutput else { throw ImagingError.corrupt("deflate: output exceeds the expected size") }
                out.append(contentsOf: input[pos..<(pos + take)])
                total += remaining
                pos += remaining
            case 1:
                try inflateBlock(input, lit: fixed.0, dist: fixed.1)
            case 2:
                let (lit, dist) = try readDynamicCodes(input)
                try inflateBlock(input, lit: lit, dist: dist)
            default:
                throw ImagingError.corrupt("deflate: reserved block type 3")
            }
            if final == 1 {
                // Give back whole unread bytes so the caller finds the trailer.
                return (out, pos - bitCount / 8, true)
            }
        }
    }

    @inline(__always) mutating func emit(_ b: UInt8) throws {
        total += 1
        guard out.count < maxOutput else {
            if stopWhenFull { return }
            throw ImagingError.corrupt("deflate: output exceeds the expected size")
        }
        out.append(b)
    }

    static func fixedCodes() throws -> (HuffmanDecoder, HuffmanDecoder) {
        var lengths = [UInt8](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        let lit = try HuffmanDecoder(lengths: lengths[...])
        let dist = try HuffmanDecoder(lengths: [UInt8](repeating: 5, count: 30)[...])
        return (lit, dist)
    }

    mutating func readDynamicCodes(_ input: UnsafeBufferPointer<UInt8>) throws -> (HuffmanDecoder, HuffmanDecoder) {
        let hlit = try bits(5, input) + 257
        let hdist = try bits(5, input) + 1
        let hclen = try bits(4, input) + 4
        guard hlit <= 286, hdist <= 30 else { throw ImagingError.corrupt("deflate: too many length or distance codes") }
        var clLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<hclen { clLengths[Self.codeLengthOrder[i]] = UInt8(try bits(3, input)) }
        let clCode = try HuffmanDecoder(lengths: clLengths[...])
        var lengths = [UInt8](repeating: 0, count: hlit + hdist)
        var i = 0
        while i < hlit + hdist {
            let sym = try decode(clCode, input)
            if sym < 16 {
                lengths[i] = UInt8(sym); i += 1
                continue
            }
            var repeatValue: UInt8 = 0, count = 0
            switch sym {
            case 16:
                guard i > 0 else { throw ImagingError.corrupt("deflate: repeat with no previous length") }
                repeatValue = lengths[i - 1]; count = 3 + (try bits(2, input))
            case 17: count = 3 + (try bits(3, input))
            default: count = 11 + (try bits(7, input))
            }
            guard i + count <= hlit + hdist else { throw ImagingError.corrupt("deflate: code lengths overflow") }
            for _ in 0..<count { lengths[i] = repeatValue; i += 1 }
        }
        guard lengths[256] != 0 else { throw ImagingError.corrupt("deflate: no end-of-block code") }
        return (try HuffmanDecoder(lengths: lengths[0..<hlit]), try HuffmanDecoder(lengths: lengths[hlit...]))
    }

    mutating func inflateBlock(_ input: UnsafeBufferPointer<UInt8>, lit: HuffmanDecoder, dist: HuffmanDecoder) throws {
        while true {
            let sym = try decode(lit, input)
            if sym < 256 {
                try emit(UInt8(sym))
                continue
            }
            if sym == 256 { return }
            let li = sym - 257
            guard li < 29 else { throw ImagingError.corrupt("deflate: invalid length symbol") }
            let length = Self.lengthBase[li] + (try bits(Self.lengthExtra[li], input))
            let ds = try decode(dist, input)
            guard ds < 30 else { throw ImagingError.corrupt("deflate: invalid distance symbol") }
            let distance = Self.distBase[ds] + (try bits(Self.distExtra[ds], input))
            guard distance <= total else { throw ImagingError.corrupt("deflate: distance too far back") }
            total += length
            var n = length
            if out.count + n > maxOutput {
                guard stopWhenFull else { throw ImagingError.corrupt("deflate: output exceeds the expected size") }
                n = maxOutput - out.count  // once full, nothing more is kept, so `total == out.count` until here
            }
            var from = out.count - distance
            for _ in 0..<n { out.append(out[from]); from += 1 }
        }
    }
}
