/// PNG decoding to 8-bit RGB, matching Pillow's `Image.open(...).convert("RGB")`.
///
/// Supports every color type and bit depth of the PNG spec, Adam7 interlacing and all five filters. Alpha and
/// `tRNS` are dropped (no compositing). Samples are reduced to 8 bits the way Pillow does: 16-bit color and
/// gray+alpha keep the high byte; 16-bit grayscale (Pillow mode `I;16`) is clamped to 255; 1/2/4-bit gray is
/// scaled to 0...255.
public enum PNGDecoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// True when `bytes` starts with the PNG signature.
    public static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 8 && Array(bytes[0..<8]) == signature
    }

    struct Header {
        var width = 0, height = 0, bitDepth = 0, colorType = 0, interlaced = false
        var channels: Int {
            switch colorType {
            case 0, 3: return 1
            case 2: return 3
            case 4: return 2
            default: return 4
            }
        }
        var bitsPerPixel: Int { channels * bitDepth }
        func rowBytes(_ w: Int) -> Int { (w * bitsPerPixel + 7) / 8 }
    }

    /// Decodes a whole PNG file.
    public static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        guard matches(bytes) else { throw ImagingError.corrupt("PNG: bad signature") }
        var header: Header?
        var palette: [UInt8] = []
        var idat: [UInt8] = []
        var pos = 8
        var sawEnd = false
        while pos < bytes.count {
            guard pos + 8 <= bytes.count else { throw ImagingError.truncated("PNG chunk header") }
            let length = Int(readBE32(bytes, pos))
            guard length <= 0x7FFF_FFFF else { throw ImagingError.corrupt("PNG: chunk length too large") }
            let typeStart = pos + 4
            let dataStart = pos + 8
            guard dataStart + length + 4 <= bytes.count else { throw ImagingError.truncated("PNG chunk data") }
            let type = String(decoding: bytes[typeStart..<typeStart + 4], as: UTF8.self)
            let storedCRC = readBE32(bytes, dataStart + length)
            guard CRC32.checksum(bytes, from: typeStart, count: length + 4) == storedCRC else {
                throw ImagingError.corrupt("PNG: CRC mismatch in \(type) chunk")
            }
            let data = bytes[dataStart..<dataStart + length]
            switch type {
            case "IHDR":
                guard header == nil, length == 13 else { throw ImagingError.corrupt("PNG: bad IHDR") }
                header = try parseHeader(Array(data))
            case "PLTE":
                guard length % 3 == 0, length <= 768 else { throw ImagingError.corrupt("PNG: bad PLTE length") }
                palette = Array(data)
            case "IDAT":
                guard header != nil else { throw ImagingError.corrupt("PNG: IDAT before IHDR") }
                idat.append(contentsOf: data)
            case "IEND":
                sawEnd = true
            default:
                break  // ancillary chunks (tRNS, gAMA, text, ...) do not change Pillow's RGB conversion
            }
            pos = dataStart + length + 4
            if sawEnd { break }
        }
        guard let header else { throw ImagingError.corrupt("PNG: missing IHDR") }
        guard !idat.isEmpty else { throw ImagingError.truncated("PNG: no image data") }
        if header.colorType == 3 && palette.isEmpty { throw ImagingError.corrupt("PNG: palette image without PLTE") }

        let passes = passRects(header)
        var expected = 0
        for p in passes { expected += p.h * (1 + header.rowBytes(p.w)) }
        let raw = try Inflate.zlibDecompress(idat, maxOutput: expected, stopWhenFull: true)
        guard raw.count == expected else { throw ImagingError.truncated("PNG: image data ends early") }

        var pixels = [UInt8](repeating: 0, count: header.width * header.height * 3)
        var offset = 0
        for p in passes {
            let rb = header.rowBytes(p.w)
            let size = p.h * (1 + rb)
            let rows = try unfilter(raw, offset: offset, rows: p.h, rowBytes: rb, bpp: max(1, header.bitsPerPixel / 8))
            offset += size
            expand(rows, rowBytes: rb, pass: p, header: header, palette: palette, into: &pixels)
        }
        guard let image = RGBImage(width: header.width, height: header.height, pixels: pixels) else {
            throw ImagingError.badDimensions(width: header.width, height: header.height)
        }
        return image
    }

    static func readBE32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func parseHeader(_ d: [UInt8]) throws -> Header {
        var h = Header()
        h.width = Int(readBE32(d, 0))
        h.height = Int(readBE32(d, 4))
        h.bitDepth = Int(d[8])
        h.colorType = Int(d[9])
        try ImageLimits.check(width: h.width, height: h.height)
        let allowed: [Int]
        switch h.colorType {
        case 0: allowed = [1, 2, 4, 8, 16]
        case 3: allowed = [1, 2, 4, 8]
        case 2, 4, 6: allowed = [8, 16]
        default: throw ImagingError.corrupt("PNG: invalid color type \(h.colorType)")
        }
        guard allowed.contains(h.bitDepth) else {
            throw ImagingError.corrupt("PNG: bit depth \(h.bitDepth) is invalid for color type \(h.colorType)")
        }
        guard d[10] == 0 else { throw ImagingError.corrupt("PNG: unknown compression method \(d[10])") }
        guard d[11] == 0 else { throw ImagingError.corrupt("PNG: unknown filter method \(d[11])") }
        guard d[12] <= 1 else { throw ImagingError.corrupt("PNG: unknown interlace method \(d[12])") }
        h.interlaced = d[12] == 1
        return h
    }

    /// One reduced image of Adam7 (or the whole image): origin, step and size in pixels.
    struct Pass { var x0: Int, y0: Int, dx: Int, dy: Int, w: Int, h: Int }

    static func passRects(_ h: Header) -> [Pass] {
        guard h.interlaced else { return [Pass(x0: 0, y0: 0, dx: 1, dy: 1, w: h.width, h: h.height)] }
        let adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        return adam7.compactMap { (x0, y0, dx, dy) in
            let w = (h.width - x0 + dx - 1) / dx, hh = (h.height - y0 + dy - 1) / dy
            return w > 0 && hh > 0 ? Pass(x0: x0, y0: y0, dx: dx, dy: dy, w: w, h: hh) : nil
        }
    }

    /// Reverses the per-row filters; returns `rows × rowBytes` bytes without the filter-type bytes.
    static func unfilter(_ raw: [UInt8], offset: Int, rows: Int, rowBytes: Int, bpp: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        try raw.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<rows {
                    let filter = src[offset + y * (rowBytes + 1)]
                    let s = offset + y * (rowBytes + 1) + 1
                    let d = y * rowBytes
                    let p = d - rowBytes  // previous row, valid when y > 0
                    switch filter {
                    case 0:
                        for x in 0..<rowBytes { dst[d + x] = src[s + x] }
                    case 1:
                        for x in 0..<rowBytes { dst[d + x] = src[s + x] &+ (x >= bpp ? dst[d + x - bpp] : 0) }
                    case 2:
                        for x in 0..<rowBytes { dst[d + x] = src[s + x] &+ (y > 0 ? dst[p + x] : 0) }
                    case 3:
                        for x in 0..<rowBytes {
                            let a = x >= bpp ? Int(dst[d + x - bpp]) : 0
                            let b = y > 0 ? Int(dst[p + x]) : 0
                            dst[d + x] = src[s + x] &+ UInt8((a + b) >> 1)
                        }
                    case 4:
                        for x in 0..<rowBytes {
                            let a = x >= bpp ? Int(dst[d + x - bpp]) : 0
                            let b = y > 0 ? Int(dst[p + x]) : 0
                            let c = (x >= bpp && y > 0) ? Int(dst[p + x - bpp]) : 0
                            let pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c)
                            let pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                            dst[d + x] = src[s + x] &+ UInt8(pred)
                        }
                    default:
                        throw ImagingError.corrupt("PNG: invalid filter type \(filter)")
                    }
                }
            }
        }
        return out
    }

    /// Converts unfiltered rows of one pass to RGB and scatters them into the full image.
    static func expand(_ rows: [UInt8], rowBytes: Int, pass: Pass, header: Header, palette: [UInt8], into pixels: inout [UInt8]) {
        let depth = header.bitDepth
        let width = header.width
        // Palette entries beyond PLTE read as black, as in Pillow.
        var pal = [UInt8](repeating: 0, count: 256 * 3)
        for i in 0..<palette.count { pal[i] = palette[i] }
        rows.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<pass.h {
                    let row = y * rowBytes
                    var o = ((pass.y0 + y * pass.dy) * width + pass.x0) * 3
                    let step = pass.dx * 3
                    for x in 0..<pass.w {
                        var r: UInt8 = 0, g: UInt8 = 0, b: UInt8 = 0
                        switch header.colorType {
                        case 0, 3:
                            var v: Int
                            if depth < 8 {
                                let bit = x * depth
                                let byte = Int(src[row + bit >> 3])
                                v = (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1)
                            } else if depth == 8 {
                                v = Int(src[row + x])
                            } else {
                                v = Int(src[row + 2 * x]) << 8 | Int(src[row + 2 * x + 1])
                            }
                            if header.colorType == 3 {
                                r = pal[v * 3]; g = pal[v * 3 + 1]; b = pal[v * 3 + 2]
                            } else {
                                switch depth {
                                case 1: v *= 255
                                case 2: v *= 85
                                case 4: v *= 17
                                case 16: v = min(v, 255)
                                default: break
                                }
                                r = UInt8(v); g = r; b = r
                            }
                        case 4:
                            let i = row + x * 2 * (depth / 8)
                            r = src[i]; g = r; b = r
                        default:
                            let bytesPerSample = depth / 8
                            let i = row + x * header.channels * bytesPerSample
                            r = src[i]; g = src[i + bytesPerSample]; b = src[i + 2 * bytesPerSample]
                        }
                        dst[o] = r; dst[o + 1] = g; dst[o + 2] = b
                        o += step
                    }
                }
            }
        }
    }
}

/// CRC-32 (ISO-HDLC, as in PNG and zlib).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8], from start: Int, count: Int) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for i in start..<start + count { c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
