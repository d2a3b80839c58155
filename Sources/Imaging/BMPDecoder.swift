/// Windows BMP decoding for uncompressed 24-bit and 32-bit images (32-bit: the fourth byte is ignored,
/// as Pillow's `BGRX` reading does), bottom-up or top-down.
public enum BMPDecoder {
    /// True when `bytes` starts with `BM` and is long enough for the headers.
    public static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 26 && bytes[0] == 0x42 && bytes[1] == 0x4D
    }

    static func le32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
    }

    /// Decodes a whole BMP file.
    public static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        guard matches(bytes) else { throw ImagingError.corrupt("BMP: bad signature") }
        let dataOffset = le32(bytes, 10)
        let headerSize = le32(bytes, 14)
        guard headerSize >= 40 else { throw ImagingError.unsupported("BMP header of \(headerSize) bytes (OS/2 core header)") }
        guard bytes.count >= 14 + 40 else { throw ImagingError.truncated("BMP info header") }
        let width = Int(Int32(truncatingIfNeeded: le32(bytes, 18)))
        let rawHeight = Int(Int32(truncatingIfNeeded: le32(bytes, 22)))
        let bpp = Int(bytes[28]) | Int(bytes[29]) << 8
        let compression = le32(bytes, 30)
        let height = abs(rawHeight)
        try ImageLimits.check(width: width, height: height)
        guard bpp == 24 || bpp == 32 else { throw ImagingError.unsupported("BMP with \(bpp) bits per pixel (only 24 and 32)") }
        if compression == 3 {
            // BI_BITFIELDS is accepted only with the standard BGR byte masks.
            guard bpp == 32, bytes.count >= 66, le32(bytes, 54) == 0xFF0000, le32(bytes, 58) == 0xFF00, le32(bytes, 62) == 0xFF else {
                throw ImagingError.unsupported("BMP bit-field masks")
            }
        } else if compression != 0 {
            throw ImagingError.unsupported("compressed BMP (type \(compression))")
        }
        let bytesPerPixel = bpp / 8
        let rowSize = (width * bytesPerPixel + 3) / 4 * 4
        guard dataOffset >= 14 + 40, dataOffset + rowSize * height <= bytes.count else {
            throw ImagingError.truncated("BMP pixel data")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let srcRow = rawHeight > 0 ? height - 1 - y : y
            var s = dataOffset + srcRow * rowSize
            var o = y * width * 3
            for _ in 0..<width {
                pixels[o] = bytes[s + 2]; pixels[o + 1] = bytes[s + 1]; pixels[o + 2] = bytes[s]
                s += bytesPerPixel; o += 3
            }
        }
        guard let image = RGBImage(width: width, height: height, pixels: pixels) else {
            throw ImagingError.badDimensions(width: width, height: height)
        }
        return image
    }
}

/// Binary PPM (`P6`) decoding with a maximum sample value of 255.
public enum PPMDecoder {
    /// True when `bytes` starts with `P6` and a whitespace character.
    public static func matches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && bytes[0] == 0x50 && bytes[1] == 0x36 && isSpace(bytes[2])
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }

    /// Decodes a whole P6 file.
    public static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        guard matches(bytes) else { throw ImagingError.corrupt("PPM: bad signature") }
        var pos = 2
        func number() throws -> Int {
            // Skip whitespace and comments.
            while pos < bytes.count {
                if isSpace(bytes[pos]) { pos += 1 }
                else if bytes[pos] == 0x23 { while pos < bytes.count && bytes[pos] != 0x0A && bytes[pos] != 0x0D { pos += 1 } }
                else { break }
            }
            var value = 0, digits = 0
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
                value = value * 10 + Int(bytes[pos] - 0x30)
                digits += 1; pos += 1
                guard value <= 1 << 20 else { throw ImagingError.corrupt("PPM: header number too large") }
            }
            guard digits > 0 else { throw ImagingError.corrupt("PPM: bad header") }
            return value
        }
        let width = try number(), height = try number(), maxval = try number()
        guard pos < bytes.count, isSpace(bytes[pos]) else { throw ImagingError.truncated("PPM header") }
        pos += 1
        try ImageLimits.check(width: width, height: height)
        guard maxval == 255 else { throw ImagingError.unsupported("PPM maxval \(maxval) (only 255)") }
        let count = width * height * 3
        guard pos + count <= bytes.count else { throw ImagingError.truncated("PPM pixel data") }
        guard let image = RGBImage(width: width, height: height, pixels: Array(bytes[pos..<(pos + count)])) else {
            throw ImagingError.badDimensions(width: width, height: height)
        }
        return image
    }
}
