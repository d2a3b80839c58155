/// JPEG decoding to 8-bit RGB, built to agree with libjpeg-turbo as Pillow configures it.
///
/// Baseline and extended sequential Huffman (SOF0/SOF1) and progressive Huffman (SOF2), 8-bit precision,
/// grayscale or three-component YCbCr/RGB with any integer chroma subsampling, restart markers.
/// The pipeline mirrors libjpeg's defaults: the accurate integer IDCT (`jidctint.c`), "fancy" triangular
/// upsampling for 2×1, 1×2 and 2×2 chroma, and its fixed-point YCbCr→RGB tables, so output usually matches
/// Pillow exactly. Arithmetic coding, lossless, 12-bit and CMYK/YCCK files are rejected with `unsupported`.
public enum JPEGDecoder {
    /// True when `bytes` starts with an SOI marker.
    public static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    /// Decodes a whole JPEG file.
    public static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        guard matches(bytes) else { throw ImagingError.corrupt("JPEG: missing SOI marker") }
        var state = JPEGState()
        try bytes.withUnsafeBufferPointer { try state.parse($0) }
        return try state.render()
    }
}

/// Position in natural (row-major) order of the k-th coefficient in zig-zag order; 16 extra entries absorb
/// out-of-range indices from corrupt streams.
let jpegZigZag: [Int] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]

/// A JPEG Huffman table: a 9-bit lookup plus libjpeg-style `maxcode`/`valptr` for longer codes.
struct JPEGHuffmanTable {
    static let lookupBits = 9
    /// `length << 8 | symbol` for codes of ≤ 9 bits, indexed by the next 9 bits; 0 when longer or invalid.
    var lookup = [UInt16](repeating: 0, count: 1 << lookupBits)
    var maxcode = [Int](repeating: -1, count: 18)
    var mincode = [Int](repeating: 0, count: 17)
    var valptr = [Int](repeating: 0, count: 17)
    var values: [UInt8] = []

    init(counts: [Int], values: [UInt8]) throws {
        self.values = values
        var code = 0, k = 0
        for l in 1...16 {
            mincode[l] = code
            valptr[l] = k
            for _ in 0..<counts[l] {
                guard code < 1 << l else { throw ImagingError.corrupt("JPEG: over-subscribed Huffman table") }
                if l <= Self.lookupBits {
                    let shift = Self.lookupBits - l
                    let entry = UInt16(l) << 8 | UInt16(values[k])
                    for fill in 0..<(1 << shift) { lookup[(code << shift) | fill] = entry }
                }
                code += 1; k += 1
            }
            maxcode[l] = counts[l] > 0 ? code - 1 : -1
            code <<= 1
        }
        maxcode[17] = Int.max
    }
}

/// One frame component and its coefficient storage.
struct JPEGComponent {
    var id = 0, h = 1, v = 1, tq = 0
    var width = 0, height = 0             // downsampled size in samples
    var blocksPerLine = 0, blocksPerColumn = 0
    var blocksPerLineMCU = 0, blocksPerColumnMCU = 0
    var coefs: [Int16] = []
    var dcTable = 0, acTable = 0
    var pred = 0
}

/// MSB-first entropy-coded-segment reader: removes stuffed zero bytes, stops at markers, pads with zeros.
struct JPEGBitReader {
    var pos: Int
    var buf: UInt64 = 0
    var count = 0
    var markerHit = false
    /// Zero bits appended after the real end of the file (not after a marker).
    var padBits = 0
    /// Set when decoding consumed bits that are not in the file.
    var overran = false

    init(pos: Int) { self.pos = pos }

    @inline(__always) mutating func fill(_ d: UnsafeBufferPointer<UInt8>) {
        while count <= 56 {
            var byte: UInt64 = 0
            if !markerHit {
                if pos < d.count {
                    let b = d[pos]
                    if b == 0xFF {
                        if pos + 1 < d.count && d[pos + 1] == 0 {
                            byte = 0xFF; pos += 2
                        } else if pos + 1 < d.count {
                            markerHit = true
                        } else {
                            pos += 1; padBits += 8
                        }
                    } else {
                        byte = UInt64(b); pos += 1
                    }
                } else {
                    padBits += 8
                }
            }
            buf |= byte << UInt64(56 - count)
            count += 8
        }
    }

    @inline(__always) mutating func consume(_ n: Int) {
        buf <<= UInt64(n)
        count -= n
        if count < padBits { overran = true }
    }

    @inline(__always) mutating func bit(_ d: UnsafeBufferPointer<UInt8>) -> Int {
        if count < 1 { fill(d) }
        let v = Int(buf >> 63)
        consume(1)
        return v
    }

    @inline(__always) mutating func receive(_ s: Int, _ d: UnsafeBufferPointer<UInt8>) -> Int {
        if s == 0 { return 0 }
        if count < s { fill(d) }
        let v = Int(buf >> UInt64(64 - s))
        consume(s)
        return v
    }

    /// `receive` then sign-extend (JPEG's EXTEND).
    @inline(__always) mutating func receiveExtend(_ s: Int, _ d: UnsafeBufferPointer<UInt8>) -> Int {
        if s == 0 { return 0 }
        let v = receive(s, d)
        return v < 1 << (s - 1) ? v - (1 << s) + 1 : v
    }

    @inline(__always) mutating func decode(_ t: JPEGHuffmanTable, _ d: UnsafeBufferPointer<UInt8>) throws -> Int {
        if count < 16 { fill(d) }
        let e = t.lookup[Int(buf >> UInt64(64 - JPEGHuffmanTable.lookupBits))]
        if e != 0 {
            consume(Int(e >> 8))
            return Int(e & 0xFF)
        }
        for l in (JPEGHuffmanTable.lookupBits + 1)...16 {
            let code = Int(buf >> UInt64(64 - l))
            if code <= t.maxcode[l] {
                consume(l)
                let i = t.valptr[l] + code - t.mincode[l]
                guard i >= 0, i < t.values.count else { break }
                return Int(t.values[i])
            }
        }
        throw ImagingError.corrupt("JPEG: invalid Huffman code")
    }

    /// Drops buffered bits and steps over the RSTn marker that should follow (tolerating its absence).
    mutating func restart(_ d: UnsafeBufferPointer<UInt8>) {
        buf = 0; count = 0; padBits = 0; markerHit = false
        while pos + 1 < d.count && !(d[pos] == 0xFF && d[pos + 1] != 0 && d[pos + 1] != 0xFF) { pos += 1 }
        if pos + 1 < d.count && (0xD0...0xD7).contains(d[pos + 1]) { pos += 2 }
    }
}

struct JPEGState {
    var quant = [[Int]](repeating: [Int](repeating: 1, count: 64), count: 4)
    var quantDefined = [Bool](repeating: false, count: 4)
    var dcTables = [JPEGHuffmanTable?](repeating: nil, count: 4)
    var acTables = [JPEGHuffmanTable?](repeating: nil, count: 4)
    var components: [JPEGComponent] = []
    var width = 0, height = 0
    var progressive = false
    var frameSeen = false
    var hmax = 1, vmax = 1
    var mcusPerLine = 0, mcusPerColumn = 0
    var restartInterval = 0
    var sawJFIF = false
    var adobeTransform: Int? = nil
    var scans = 0
    var eobrun = 0

    // MARK: markers

    mutating func parse(_ d: UnsafeBufferPointer<UInt8>) throws {
        var pos = 2
        while true {
            // Find the next marker, skipping fill bytes.
            // A file that ends without EOI is truncated (Pillow reports "image file is truncated" too).
            guard pos < d.count else { throw ImagingError.truncated("JPEG ends without an EOI marker") }
            guard d[pos] == 0xFF else { throw ImagingError.corrupt("JPEG: expected a marker at byte \(pos)") }
            while pos < d.count && d[pos] == 0xFF { pos += 1 }
            guard pos < d.count else { throw ImagingError.truncated("JPEG marker") }
            let marker = d[pos]
            pos += 1
            switch marker {
            case 0xD9:
                guard scans > 0 else { throw ImagingError.corrupt("JPEG: EOI before any scan") }
                return
            case 0xD0...0xD7, 0x01:
                continue
            case 0xD8:
                throw ImagingError.corrupt("JPEG: unexpected SOI")
            default:
                break
            }
            guard pos + 2 <= d.count else { throw ImagingError.truncated("JPEG marker length") }
            let length = Int(d[pos]) << 8 | Int(d[pos + 1])
            guard length >= 2 else { throw ImagingError.corrupt("JPEG: marker length \(length)") }
            guard pos + length <= d.count else { throw ImagingError.truncated("JPEG marker segment 0x\(String(marker, radix: 16))") }
            let seg = UnsafeBufferPointer(rebasing: d[(pos + 2)..<(pos + length)])
            pos += length
            switch marker {
            case 0xC0, 0xC1, 0xC2:
                try parseFrame(seg, progressive: marker == 0xC2)
                // Every block costs at least one bit in some scan, so a small file cannot describe a huge
                // image; checking before allocating keeps a forged header from reserving gigabytes.
                let blocks = components.reduce(0) { $0 + $1.blocksPerLine * $1.blocksPerColumn }
                guard blocks <= 8 * d.count else {
                    throw ImagingError.truncated("JPEG of \(d.count) bytes is too small for \(width)x\(height) pixels")
                }
                for i in components.indices {
                    components[i].coefs = [Int16](repeating: 0, count: components[i].blocksPerLineMCU * components[i].blocksPerColumnMCU * 64)
                }
            case 0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                throw ImagingError.unsupported("JPEG process SOF\(Int(marker) - 0xC0) (only baseline, extended Huffman and progressive Huffman)")
            case 0xC4:
                try parseHuffman(seg)
            case 0xDB:
                try parseQuant(seg)
            case 0xDD:
                guard seg.count >= 2 else { throw ImagingError.corrupt("JPEG: short DRI") }
                restartInterval = Int(seg[0]) << 8 | Int(seg[1])
            case 0xDA:
                pos = try parseScan(seg, data: d, after: pos)
                scans += 1
            case 0xE0:
                if seg.count >= 5 && Array(seg[0..<5]) == [0x4A, 0x46, 0x49, 0x46, 0] { sawJFIF = true }
            case 0xEE:
                if seg.count >= 12 && Array(seg[0..<5]) == [0x41, 0x64, 0x6F, 0x62, 0x65] { adobeTransform = Int(seg[11]) }
            case 0xDC:
                throw ImagingError.unsupported("JPEG DNL marker")
            default:
                break  // APPn, COM, ...
            }
        }
    }

    mutating func parseFrame(_ s: UnsafeBufferPointer<UInt8>, progressive: Bool) throws {
        guard !frameSeen else { throw ImagingError.unsupported("JPEG with more than one frame") }
        guard s.count >= 6 else { throw ImagingError.corrupt("JPEG: short SOF") }
        guard s[0] == 8 else { throw ImagingError.unsupported("JPEG sample precision \(s[0]) (only 8-bit)") }
        height = Int(s[1]) << 8 | Int(s[2])
        width = Int(s[3]) << 8 | Int(s[4])
        if height == 0 { throw ImagingError.unsupported("JPEG height defined by DNL") }
        try ImageLimits.check(width: width, height: height)
        let n = Int(s[5])
        guard n == 1 || n == 3 else {
            throw n == 4 ? ImagingError.unsupported("CMYK/YCCK JPEG") : ImagingError.unsupported("JPEG with \(n) components")
        }
        guard s.count >= 6 + 3 * n else { throw ImagingError.corrupt("JPEG: short SOF") }
        self.progressive = progressive
        frameSeen = true
        for i in 0..<n {
            var c = JPEGComponent()
            c.id = Int(s[6 + 3 * i])
            c.h = Int(s[7 + 3 * i] >> 4)
            c.v = Int(s[7 + 3 * i] & 15)
            c.tq = Int(s[8 + 3 * i])
            guard (1...4).contains(c.h), (1...4).contains(c.v), c.tq < 4 else {
                throw ImagingError.corrupt("JPEG: bad sampling factors or quantization table in SOF")
            }
            components.append(c)
        }
        if n == 1 { components[0].h = 1; components[0].v = 1 }  // a lone component is never subsampled
        hmax = components.map(\.h).max() ?? 1
        vmax = components.map(\.v).max() ?? 1
        mcusPerLine = (width + 8 * hmax - 1) / (8 * hmax)
        mcusPerColumn = (height + 8 * vmax - 1) / (8 * vmax)
        for i in components.indices {
            var c = components[i]
            c.width = (width * c.h + hmax - 1) / hmax
            c.height = (height * c.v + vmax - 1) / vmax
            c.blocksPerLine = (c.width + 7) / 8
            c.blocksPerColumn = (c.height + 7) / 8
            c.blocksPerLineMCU = mcusPerLine * c.h
            c.blocksPerColumnMCU = mcusPerColumn * c.v
            components[i] = c
        }
    }

    mutating func parseHuffman(_ s: UnsafeBufferPointer<UInt8>) throws {
        var p = 0
        while p < s.count {
            guard p + 17 <= s.count else { throw ImagingError.corrupt("JPEG: short DHT") }
            let tc = Int(s[p] >> 4), th = Int(s[p] & 15)
            guard tc <= 1, th <= 3 else { throw ImagingError.corrupt("JPEG: bad DHT class/destination") }
            var counts = [Int](repeating: 0, count: 17)
            var total = 0
            for l in 1...16 { counts[l] = Int(s[p + l]); total += counts[l] }
            p += 17
            guard total <= 256, p + total <= s.count else { throw ImagingError.corrupt("JPEG: bad DHT counts") }
            let table = try JPEGHuffmanTable(counts: counts, values: Array(s[p..<(p + total)]))
            p += total
            if tc == 0 { dcTables[th] = table } else { acTables[th] = table }
        }
    }

    mutating func parseQuant(_ s: UnsafeBufferPointer<UInt8>) throws {
        var p = 0
        while p < s.count {
            let pq = Int(s[p] >> 4), tq = Int(s[p] & 15)
            guard pq <= 1, tq <= 3 else { throw ImagingError.corrupt("JPEG: bad DQT precision/destination") }
            let size = pq == 0 ? 64 : 128
            guard p + 1 + size <= s.count else { throw ImagingError.corrupt("JPEG: short DQT") }
            var table = [Int](repeating: 0, count: 64)
            for k in 0..<64 {
                table[jpegZigZag[k]] = pq == 0 ? Int(s[p + 1 + k]) : Int(s[p + 1 + 2 * k]) << 8 | Int(s[p + 2 + 2 * k])
            }
            quant[tq] = table
            quantDefined[tq] = true
            p += 1 + size
        }
    }

    // MARK: scans

    enum BlockKind { case sequential, dcFirst, dcRefine, acFirst, acRefine }

    /// Decodes one scan's entropy-coded data starting at `after`; returns the offset of the next marker.
    mutating func parseScan(_ s: UnsafeBufferPointer<UInt8>, data d: UnsafeBufferPointer<UInt8>, after: Int) throws -> Int {
        guard frameSeen else { throw ImagingError.corrupt("JPEG: SOS before SOF") }
        guard s.count >= 1 else { throw ImagingError.corrupt("JPEG: short SOS") }
        let n = Int(s[0])
        guard (1...4).contains(n), s.count >= 4 + 2 * n else { throw ImagingError.corrupt("JPEG: bad SOS") }
        var scanComps: [Int] = []
        for i in 0..<n {
            let cid = Int(s[1 + 2 * i])
            guard let ci = components.firstIndex(where: { $0.id == cid }), !scanComps.contains(ci) else {
                throw ImagingError.corrupt("JPEG: SOS names unknown component \(cid)")
            }
            components[ci].dcTable = Int(s[2 + 2 * i] >> 4)
            components[ci].acTable = Int(s[2 + 2 * i] & 15)
            guard components[ci].dcTable < 4, components[ci].acTable < 4 else { throw ImagingError.corrupt("JPEG: bad table selector") }
            scanComps.append(ci)
        }
        let ss = Int(s[1 + 2 * n]), se = Int(s[2 + 2 * n])
        let ah = Int(s[3 + 2 * n] >> 4), al = Int(s[3 + 2 * n] & 15)
        let kind: BlockKind
        if progressive {
            guard ss <= se, se <= 63, al <= 13, ah <= 13 else { throw ImagingError.corrupt("JPEG: bad progressive scan parameters") }
            if ss == 0 {
                guard se == 0 else { throw ImagingError.corrupt("JPEG: progressive DC scan with AC coefficients") }
                kind = ah == 0 ? .dcFirst : .dcRefine
            } else {
                guard n == 1 else { throw ImagingError.corrupt("JPEG: interleaved progressive AC scan") }
                kind = ah == 0 ? .acFirst : .acRefine
            }
        } else {
            kind = .sequential
        }
        // Tables the scan needs must exist.
        for ci in scanComps {
            let c = components[ci]
            if kind == .sequential || kind == .dcFirst {
                guard dcTables[c.dcTable] != nil else { throw ImagingError.corrupt("JPEG: missing DC Huffman table") }
            }
            if kind == .sequential || kind == .acFirst || kind == .acRefine {
                guard acTables[c.acTable] != nil else { throw ImagingError.corrupt("JPEG: missing AC Huffman table") }
            }
            components[ci].pred = 0
        }
        eobrun = 0

        var reader = JPEGBitReader(pos: after)
        var mcuCount = 0
        let single = scanComps.count == 1
        let totalMCUs: Int
        if single {
            let c = components[scanComps[0]]
            totalMCUs = c.blocksPerLine * c.blocksPerColumn
        } else {
            totalMCUs = mcusPerLine * mcusPerColumn
        }
        for mcu in 0..<totalMCUs {
            if restartInterval > 0 && mcuCount == restartInterval {
                reader.restart(d)
                for ci in scanComps { components[ci].pred = 0 }
                eobrun = 0
                mcuCount = 0
            }
            if single {
                let ci = scanComps[0]
                let perLine = components[ci].blocksPerLine
                let row = mcu / perLine, col = mcu % perLine
                let offset = (row * components[ci].blocksPerLineMCU + col) * 64
                try decodeBlock(kind, ci, offset, ss, se, ah, al, &reader, d)
            } else {
                let mrow = mcu / mcusPerLine, mcol = mcu % mcusPerLine
                for ci in scanComps {
                    // Scalars only: a copy of the component would share (and so force copying) its coefficients.
                    let ch = components[ci].h, cv = components[ci].v, perLine = components[ci].blocksPerLineMCU
                    for v in 0..<cv {
                        for h in 0..<ch {
                            let offset = ((mrow * cv + v) * perLine + mcol * ch + h) * 64
                            try decodeBlock(kind, ci, offset, ss, se, ah, al, &reader, d)
                        }
                    }
                }
            }
            mcuCount += 1
            if reader.overran { throw ImagingError.truncated("JPEG entropy-coded data ends early") }
        }
        // Step to the next marker.
        var pos = reader.pos
        while pos + 1 < d.count && !(d[pos] == 0xFF && d[pos + 1] != 0 && !(0xD0...0xD7).contains(d[pos + 1])) { pos += 1 }
        if pos + 1 >= d.count { pos = d.count }
        return pos
    }

    @inline(__always)
    mutating func decodeBlock(_ kind: BlockKind, _ ci: Int, _ offset: Int, _ ss: Int, _ se: Int, _ ah: Int, _ al: Int,
                              _ r: inout JPEGBitReader, _ d: UnsafeBufferPointer<UInt8>) throws {
        switch kind {
        case .sequential:
            // Tables were checked before the scan started.
            guard let dc = dcTables[components[ci].dcTable], let ac = acTables[components[ci].acTable] else { return }
            let t = try r.decode(dc, d)
            guard t <= 16 else { throw ImagingError.corrupt("JPEG: bad DC magnitude") }
            components[ci].pred += r.receiveExtend(t, d)
            let pred = components[ci].pred
            try components[ci].coefs.withUnsafeMutableBufferPointer { blk in
                blk[offset] = Int16(truncatingIfNeeded: pred)
                var k = 1
                while k < 64 {
                    let rs = try r.decode(ac, d)
                    let run = rs >> 4, size = rs & 15
                    if size == 0 {
                        if run == 15 { k += 16; continue }
                        break
                    }
                    k += run
                    guard k < 64 else { throw ImagingError.corrupt("JPEG: AC coefficient index out of range") }
                    blk[offset + jpegZigZag[k]] = Int16(truncatingIfNeeded: r.receiveExtend(size, d))
                    k += 1
                }
            }
        case .dcFirst:
            guard let dc = dcTables[components[ci].dcTable] else { return }
            let t = try r.decode(dc, d)
            guard t <= 16 else { throw ImagingError.corrupt("JPEG: bad DC magnitude") }
            components[ci].pred += r.receiveExtend(t, d)
            components[ci].coefs[offset] = Int16(truncatingIfNeeded: components[ci].pred << al)
        case .dcRefine:
            if r.bit(d) == 1 { components[ci].coefs[offset] |= Int16(truncatingIfNeeded: 1 << al) }
        case .acFirst:
            guard let ac = acTables[components[ci].acTable] else { return }
            if eobrun > 0 { eobrun -= 1; return }
            var k = ss
            while k <= se {
                let rs = try r.decode(ac, d)
                let run = rs >> 4, size = rs & 15
                if size == 0 {
                    if run < 15 {
                        eobrun = (1 << run) - 1
                        if run > 0 { eobrun += r.receive(run, d) }
                        break
                    }
                    k += 16
                    continue
                }
                k += run
                guard k <= 63 else { throw ImagingError.corrupt("JPEG: AC coefficient index out of range") }
                components[ci].coefs[offset + jpegZigZag[k]] = Int16(truncatingIfNeeded: r.receiveExtend(size, d) * (1 << al))
                k += 1
            }
        case .acRefine:
            guard let ac = acTables[components[ci].acTable] else { return }
            let p1 = 1 << al, m1 = -1 << al
            var k = ss
            var eob = eobrun
            try components[ci].coefs.withUnsafeMutableBufferPointer { blk in
                if eob == 0 {
                    while k <= se {
                        let rs = try r.decode(ac, d)
                        var run = rs >> 4
                        var value = 0
                        let size = rs & 15
                        if size != 0 {
                            guard size == 1 else { throw ImagingError.corrupt("JPEG: bad refinement magnitude") }
                            value = r.bit(d) == 1 ? p1 : m1
                        } else if run != 15 {
                            eob = 1 << run
                            if run > 0 { eob += r.receive(run, d) }
                            break
                        }
                        // Refine nonzero coefficients on the way; skip `run` zero-history ones.
                        while k <= se {
                            let z = offset + jpegZigZag[k]
                            let c = Int(blk[z])
                            if c != 0 {
                                if r.bit(d) == 1 && c & p1 == 0 {
                                    blk[z] = Int16(truncatingIfNeeded: c >= 0 ? c + p1 : c + m1)
                                }
                            } else {
                                if run == 0 { break }
                                run -= 1
                            }
                            k += 1
                        }
                        if value != 0 && k <= se { blk[offset + jpegZigZag[k]] = Int16(truncatingIfNeeded: value) }
                        k += 1
                    }
                }
                if eob > 0 {
                    while k <= se {
                        let z = offset + jpegZigZag[k]
                        let c = Int(blk[z])
                        if c != 0 && r.bit(d) == 1 && c & p1 == 0 {
                            blk[z] = Int16(truncatingIfNeeded: c >= 0 ? c + p1 : c + m1)
                        }
                        k += 1
                    }
                    eob -= 1
                }
            }
            eobrun = eob
        }
    }

    // MARK: output

    func render() throws -> RGBImage {
        guard frameSeen, scans > 0 else { throw ImagingError.truncated("JPEG without image data") }
        for c in components where !quantDefined[c.tq] {
            throw ImagingError.corrupt("JPEG: component uses undefined quantization table \(c.tq)")
        }
        // Full-resolution planes, one per component.
        var planes: [[UInt8]] = []
        for c in components {
            guard hmax % c.h == 0, vmax % c.v == 0 else { throw ImagingError.unsupported("JPEG non-integral sampling ratio") }
            let stride = c.blocksPerLine * 8
            let plane = idctPlane(c, stride: stride)
            planes.append(upsample(plane, stride: stride, c))
        }
        let count = width * height
        var out = [UInt8](repeating: 0, count: count * 3)
        if components.count == 1 {
            planes[0].withUnsafeBufferPointer { y in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<count { let v = y[i]; o[3 * i] = v; o[3 * i + 1] = v; o[3 * i + 2] = v }
                }
            }
        } else if isRGB {
            for i in 0..<count { out[3 * i] = planes[0][i]; out[3 * i + 1] = planes[1][i]; out[3 * i + 2] = planes[2][i] }
        } else {
            YCbCr.toRGB(planes[0], planes[1], planes[2], into: &out)
        }
        guard let image = RGBImage(width: width, height: height, pixels: out) else {
            throw ImagingError.badDimensions(width: width, height: height)
        }
        return image
    }

    /// libjpeg's rule for three-component color space: JFIF means YCbCr; else an Adobe marker's transform flag;
    /// else component ids 'R','G','B' mean RGB.
    var isRGB: Bool {
        if sawJFIF { return false }
        if let t = adobeTransform { return t == 0 }
        return components.count == 3 && components[0].id == 0x52 && components[1].id == 0x47 && components[2].id == 0x42
    }

    /// Inverse-DCTs every block that covers the component's samples into a `stride`-wide plane.
    func idctPlane(_ c: JPEGComponent, stride: Int) -> [UInt8] {
        var plane = [UInt8](repeating: 0, count: stride * c.blocksPerColumn * 8)
        let q = quant[c.tq]
        q.withUnsafeBufferPointer { qt in
            c.coefs.withUnsafeBufferPointer { coefs in
                plane.withUnsafeMutableBufferPointer { out in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { ws in
                        for by in 0..<c.blocksPerColumn {
                            for bx in 0..<c.blocksPerLine {
                                let src = coefs.baseAddress! + (by * c.blocksPerLineMCU + bx) * 64
                                let dst = out.baseAddress! + by * 8 * stride + bx * 8
                                IDCT.islow(src, qt.baseAddress!, dst, stride, ws.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        return plane
    }

    /// Brings a component plane to the full image size with libjpeg's upsampler for that ratio.
    func upsample(_ plane: [UInt8], stride: Int, _ c: JPEGComponent) -> [UInt8] {
        let hr = hmax / c.h, vr = vmax / c.v
        let w = width, h = height, cw = c.width, ch = c.height
        if hr == 1 && vr == 1 && stride == w { return Array(plane[0..<(w * h)]) }
        var out = [UInt8](repeating: 0, count: w * h)
        plane.withUnsafeBufferPointer { pb in
        out.withUnsafeMutableBufferPointer { ob in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * cw + 2) { rowb in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: cw + 1) { sumb in
            let p = pb.baseAddress!, o = ob.baseAddress!, row = rowb.baseAddress!, sums = sumb.baseAddress!
            if hr == 1 && vr == 1 {
                for y in 0..<h { (o + y * w).update(from: p + y * stride, count: w) }
            } else if hr == 2 && vr == 1 && cw > 2 {
                // h2v1 "fancy": each output is 3/4 nearer + 1/4 further input sample.
                for y in 0..<h {
                    let s = p + y * stride
                    row[0] = s[0]
                    row[1] = UInt8((Int(s[0]) * 3 + Int(s[1]) + 2) >> 2)
                    for x in 1..<(cw - 1) {
                        let v = Int(s[x]) * 3
                        row[2 * x] = UInt8((v + Int(s[x - 1]) + 1) >> 2)
                        row[2 * x + 1] = UInt8((v + Int(s[x + 1]) + 2) >> 2)
                    }
                    let last = Int(s[cw - 1])
                    row[2 * cw - 2] = UInt8((last * 3 + Int(s[cw - 2]) + 1) >> 2)
                    row[2 * cw - 1] = UInt8(last)
                    (o + y * w).update(from: row, count: w)
                }
            } else if hr == 1 && vr == 2 {
                // h1v2 "fancy": vertical triangle filter with biases 1 (upper) and 2 (lower).
                for y in 0..<h {
                    let iy = y / 2
                    let ny = y % 2 == 0 ? max(iy - 1, 0) : min(iy + 1, ch - 1)
                    let bias = y % 2 == 0 ? 1 : 2
                    let a = p + iy * stride, b = p + ny * stride, d = o + y * w
                    for x in 0..<w { d[x] = UInt8((Int(a[x]) * 3 + Int(b[x]) + bias) >> 2) }
                }
            } else if hr == 2 && vr == 2 && cw > 2 {
                // h2v2 "fancy": vertical then horizontal triangle filter on column sums, biases 8 / 7.
                for y in 0..<h {
                    let iy = y / 2
                    let ny = y % 2 == 0 ? max(iy - 1, 0) : min(iy + 1, ch - 1)
                    let a = p + iy * stride, b = p + ny * stride
                    for x in 0..<cw { sums[x] = Int(a[x]) * 3 + Int(b[x]) }
                    row[0] = UInt8((sums[0] * 4 + 8) >> 4)
                    row[1] = UInt8((sums[0] * 3 + sums[1] + 7) >> 4)
                    for x in 1..<(cw - 1) {
                        row[2 * x] = UInt8((sums[x] * 3 + sums[x - 1] + 8) >> 4)
                        row[2 * x + 1] = UInt8((sums[x] * 3 + sums[x + 1] + 7) >> 4)
                    }
                    row[2 * cw - 2] = UInt8((sums[cw - 1] * 3 + sums[cw - 2] + 8) >> 4)
                    row[2 * cw - 1] = UInt8((sums[cw - 1] * 4 + 7) >> 4)
                    (o + y * w).update(from: row, count: w)
                }
            } else {
                // Plain replication for every other integral ratio (and narrow images).
                for y in 0..<h {
                    let s = p + min(y / vr, ch - 1) * stride, d = o + y * w
                    for x in 0..<w { d[x] = s[min(x / hr, cw - 1)] }
                }
            }
        }}}}
        return out
    }
}

/// libjpeg's fixed-point YCbCr → RGB conversion (`jdcolor.c`, 16 fraction bits).
enum YCbCr {
    static let crR: [Int] = (0..<256).map { (91881 * ($0 - 128) + 32768) >> 16 }
    static let cbB: [Int] = (0..<256).map { (116130 * ($0 - 128) + 32768) >> 16 }
    static let crG: [Int] = (0..<256).map { -46802 * ($0 - 128) }
    static let cbG: [Int] = (0..<256).map { -22554 * ($0 - 128) + 32768 }

    @inline(__always) static func clamp(_ v: Int) -> UInt8 { UInt8(max(0, min(255, v))) }

    static func toRGB(_ y: [UInt8], _ cb: [UInt8], _ cr: [UInt8], into out: inout [UInt8]) {
        crR.withUnsafeBufferPointer { crR in
        cbB.withUnsafeBufferPointer { cbB in
        crG.withUnsafeBufferPointer { crG in
        cbG.withUnsafeBufferPointer { cbG in
        y.withUnsafeBufferPointer { y in
        cb.withUnsafeBufferPointer { cb in
        cr.withUnsafeBufferPointer { cr in
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<y.count {
                let l = Int(y[i]), b = Int(cb[i]), r = Int(cr[i])
                o[3 * i] = clamp(l + crR[r])
                o[3 * i + 1] = clamp(l + ((cbG[b] + crG[r]) >> 16))
                o[3 * i + 2] = clamp(l + cbB[b])
            }
        }}}}}}}}
    }
}
