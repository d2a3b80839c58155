import Foundation
import Imaging
import Testing

/// Broken input must throw an `ImagingError`, never crash or allocate without bound.
@Suite struct MalformedInputTests {
    static func decodeFails(_ bytes: [UInt8]) -> ImagingError? {
        do {
            _ = try ImageDecoder.decode(bytes)
            return nil
        } catch let e as ImagingError {
            return e
        } catch {
            return nil
        }
    }

    /// PNG chunk with a correct CRC.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for b in body {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
        return be(UInt32(data.count)) + body + be(crc)
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func ihdr(width: UInt32, height: UInt32, depth: UInt8 = 8, color: UInt8 = 2) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
        return chunk("IHDR", be(width) + be(height) + [depth, color, 0, 0, 0])
    }

    @Test func emptyAndUnknownInput() {
        #expect(Self.decodeFails([]) == .unknownFormat)
        #expect(Self.decodeFails(Array("GIF89a".utf8)) == .unknownFormat)
    }

    @Test(arguments: ["decode/rgb8_large.png", "decode/baseline_420.jpg", "decode/progressive_420.jpg", "decode/rgb.bmp", "decode/rgb.ppm"])
    func everyTruncationThrows(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        // Cut at many points (every byte for small files); each prefix must throw, not crash. A PNG that
        // loses only its IEND chunk still holds the whole image and is accepted (as Pillow does).
        let end = file.hasSuffix(".png") ? bytes.count - 12 : bytes.count
        let step = max(1, bytes.count / 400)
        var cut = 0
        while cut < end {
            let prefix = Array(bytes[0..<cut])
            #expect(Self.decodeFails(prefix) != nil, "\(file) cut at \(cut) of \(bytes.count) decoded")
            cut += step
        }
    }

    @Test func pngBadCRC() throws {
        var bytes = try Fixtures.bytes("decode/rgb8_fixed.png")
        bytes[20] ^= 0x01  // inside IHDR data
        #expect(Self.decodeFails(bytes) == .corrupt("PNG: CRC mismatch in IHDR chunk"))
    }

    @Test func pngAbsurdDimensionsRejectedBeforeAllocating() {
        let huge = Self.pngSignature + Self.ihdr(width: 1 << 30, height: 1 << 30) + Self.chunk("IDAT", [0x78, 0x9C, 0x03, 0x00]) + Self.chunk("IEND", [])
        #expect(Self.decodeFails(huge) == .badDimensions(width: 1 << 30, height: 1 << 30))
        let wide = Self.pngSignature + Self.ihdr(width: 20000, height: 1) + Self.chunk("IEND", [])
        #expect(Self.decodeFails(wide) == .badDimensions(width: 20000, height: 1))
        let zero = Self.pngSignature + Self.ihdr(width: 0, height: 5) + Self.chunk("IEND", [])
        #expect(Self.decodeFails(zero) == .badDimensions(width: 0, height: 5))
        let badDepth = Self.pngSignature + Self.ihdr(width: 2, height: 2, depth: 3, color: 2) + Self.chunk("IEND", [])
        #expect(Self.decodeFails(badDepth) != nil)
    }

    @Test func pngBadDeflateData() {
        let head = Self.pngSignature + Self.ihdr(width: 4, height: 4)
        // Block type 3 (reserved).
        #expect(Self.decodeFails(head + Self.chunk("IDAT", [0x78, 0x9C, 0x07]) + Self.chunk("IEND", [])) == .corrupt("deflate: reserved block type 3"))
        // Bad zlib header check.
        #expect(Self.decodeFails(head + Self.chunk("IDAT", [0x78, 0x9D, 0x03, 0x00]) + Self.chunk("IEND", [])) == .corrupt("zlib: header check bits"))
        // Dynamic block whose code-length code is over-subscribed (all 19 lengths = 1).
        // BFINAL=1, BTYPE=2, HLIT=0, HDIST=0, HCLEN=15 (19 codes), then 19 × 3-bit lengths of 1.
        var bits: [Int] = [1, 0, 1] + [0, 0, 0, 0, 0] + [0, 0, 0, 0, 0] + [1, 1, 1, 1]
        for _ in 0..<19 { bits += [1, 0, 0] }
        var packed = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (i, b) in bits.enumerated() where b == 1 { packed[i / 8] |= UInt8(1 << (i % 8)) }
        #expect(Self.decodeFails(head + Self.chunk("IDAT", [0x78, 0x9C] + packed) + Self.chunk("IEND", [])) == .corrupt("deflate: over-subscribed Huffman code"))
        // Stored block whose LEN / NLEN disagree.
        #expect(Self.decodeFails(head + Self.chunk("IDAT", [0x78, 0x9C, 0x01, 0x05, 0x00, 0x00, 0x00]) + Self.chunk("IEND", [])) == .corrupt("deflate: stored block length check"))
        // A back-reference before the start of the output: fixed block, length code 257, distance code 0.
        // Fixed code for 257 is 0000001 (7 bits), distance 0 is 00000 (5 bits).
        let fixedBits: [Int] = [1, 1, 0] + [0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 0, 0]
        var fixed = [UInt8](repeating: 0, count: 3)
        for (i, b) in fixedBits.enumerated() where b == 1 { fixed[i / 8] |= UInt8(1 << (i % 8)) }
        #expect(Self.decodeFails(head + Self.chunk("IDAT", [0x78, 0x9C] + fixed) + Self.chunk("IEND", [])) == .corrupt("deflate: distance too far back"))
    }

    @Test func pngBadFilterType() throws {
        // 1x1 RGB, filter byte 9, stored block.
        let raw: [UInt8] = [9, 1, 2, 3]
        let stored: [UInt8] = [0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF] + raw + [0x00, 0x32, 0x00, 0x10]  // Adler-32 of raw
        let png = Self.pngSignature + Self.ihdr(width: 1, height: 1) + Self.chunk("IDAT", stored) + Self.chunk("IEND", [])
        #expect(Self.decodeFails(png) == .corrupt("PNG: invalid filter type 9"))
    }

    @Test func zlibAdlerChecked() throws {
        // "abc" stored, then a wrong Adler-32.
        let z: [UInt8] = [0x78, 0x01, 0x01, 0x03, 0x00, 0xFC, 0xFF, 0x61, 0x62, 0x63, 0x02, 0x4D, 0x01, 0x27]
        #expect(try Inflate.zlibDecompress(z, maxOutput: 3) == [0x61, 0x62, 0x63])
        var bad = z
        bad[13] ^= 1
        #expect(throws: ImagingError.corrupt("zlib: Adler-32 checksum mismatch")) { try Inflate.zlibDecompress(bad, maxOutput: 3) }
        // Output beyond the cap is an error, not an allocation.
        #expect(throws: ImagingError.self) { try Inflate.zlibDecompress(z, maxOutput: 2) }
    }

    @Test func jpegCorruptHuffmanData() throws {
        let bytes = try Fixtures.bytes("decode/baseline_444.jpg")
        // Find SOS and overwrite the entropy-coded data with stuffed 0xFF bytes (FF 00): a run of 1 bits is
        // no valid Huffman code.
        guard let sos = (0..<(bytes.count - 1)).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA }) else {
            Issue.record("no SOS"); return
        }
        let start = sos + 2 + (Int(bytes[sos + 2]) << 8 | Int(bytes[sos + 3]))
        var bad = bytes
        for i in start..<(bytes.count - 2) { bad[i] = (i - start) % 2 == 0 ? 0xFF : 0x00 }
        #expect(Self.decodeFails(bad) == .corrupt("JPEG: invalid Huffman code"))
    }

    @Test func jpegStructuralErrors() throws {
        let bytes = try Fixtures.bytes("decode/baseline_444.jpg")
        guard let sof = (0..<(bytes.count - 1)).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }) else {
            Issue.record("no SOF0"); return
        }
        // Absurd dimensions: 65535 x 65535.
        var huge = bytes
        huge[sof + 5] = 0xFF; huge[sof + 6] = 0xFF; huge[sof + 7] = 0xFF; huge[sof + 8] = 0xFF
        #expect(Self.decodeFails(huge) == .badDimensions(width: 65535, height: 65535))
        // Within the limits but far more blocks than a file this small can code: rejected before allocating.
        var big = bytes
        big[sof + 5] = 0x3E; big[sof + 6] = 0x80; big[sof + 7] = 0x3E; big[sof + 8] = 0x80  // 16000 x 16000
        #expect(Self.decodeFails(big) == .truncated("JPEG of \(bytes.count) bytes is too small for 16000x16000 pixels"))
        // 12-bit precision and arithmetic coding are reported as unsupported.
        var twelve = bytes
        twelve[sof + 4] = 12
        #expect(Self.decodeFails(twelve) == .unsupported("JPEG sample precision 12 (only 8-bit)"))
        var arithmetic = bytes
        arithmetic[sof + 1] = 0xC9
        if case .unsupported = Self.decodeFails(arithmetic) {} else { Issue.record("arithmetic JPEG not reported as unsupported") }
        // A marker segment whose length runs past the end.
        let shortSegment: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x10, 0x00, 0x4A]
        #expect(Self.decodeFails(shortSegment) == .truncated("JPEG marker segment 0xe0"))
        // Scan before any frame.
        let sosFirst: [UInt8] = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0xFF, 0xD9]
        #expect(Self.decodeFails(sosFirst) == .corrupt("JPEG: SOS before SOF"))
    }

    @Test func bmpAndPPMErrors() {
        #expect(Self.decodeFails(Array("P6\n4 4\n65535\n".utf8) + [UInt8](repeating: 0, count: 96)) == .unsupported("PPM maxval 65535 (only 255)"))
        #expect(Self.decodeFails(Array("P6\n99999999 4\n255\n".utf8)) == .corrupt("PPM: header number too large"))
        #expect(Self.decodeFails(Array("P6\n20000 20000\n255\n".utf8)) == .badDimensions(width: 20000, height: 20000))
        var bmp = [UInt8](repeating: 0, count: 54)
        bmp[0] = 0x42; bmp[1] = 0x4D; bmp[10] = 54; bmp[14] = 40
        bmp[18] = 2; bmp[22] = 2; bmp[28] = 8  // 8-bit palette BMP
        #expect(Self.decodeFails(bmp) == .unsupported("BMP with 8 bits per pixel (only 24 and 32)"))
        bmp[28] = 24
        #expect(Self.decodeFails(bmp) == .truncated("BMP pixel data"))
    }
}
