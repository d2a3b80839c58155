import Foundation
import Imaging
import Testing

/// Seeded random corruption of real files: each mutant must decode to a consistent image or throw an
/// `ImagingError` (a crash fails the whole run). PNG mutants get their CRCs recomputed so the damage reaches
/// inflate and the filters instead of stopping at the checksum.
@Suite struct FuzzTests {
    /// SplitMix64: deterministic, so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func fixPNGChecksums(_ b: inout [UInt8]) {
        var pos = 8
        while pos + 12 <= b.count {
            let len = Int(b[pos]) << 24 | Int(b[pos + 1]) << 16 | Int(b[pos + 2]) << 8 | Int(b[pos + 3])
            guard pos + 12 + len <= b.count else { return }
            var crc: UInt32 = 0xFFFF_FFFF
            for i in (pos + 4)..<(pos + 8 + len) {
                crc ^= UInt32(b[i])
                for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            }
            crc ^= 0xFFFF_FFFF
            b[pos + 8 + len] = UInt8(crc >> 24); b[pos + 9 + len] = UInt8(truncatingIfNeeded: crc >> 16)
            b[pos + 10 + len] = UInt8(truncatingIfNeeded: crc >> 8); b[pos + 11 + len] = UInt8(truncatingIfNeeded: crc)
            pos += 12 + len
        }
    }

    @Test(arguments: ["decode/rgb8_interlaced.png", "decode/pal2_interlaced.png", "decode/gray16.png",
                      "decode/baseline_420_restart.jpg", "decode/progressive_420.jpg", "decode/progressive_422_restart.jpg",
                      "decode/gray_progressive.jpg", "decode/rgb.bmp"])
    func mutantsThrowOrDecode(_ file: String) throws {
        let original = try Fixtures.bytes(file)
        var rng = SplitMix(state: UInt64(original.count) &* 2_654_435_761)
        var decoded = 0, rejected = 0
        for round in 0..<400 {
            var b = original
            // Alternate between header-heavy and anywhere-in-the-file damage.
            let region = round % 2 == 0 ? min(b.count, 300) : b.count
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                b[Int.random(in: 2..<region, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if file.hasSuffix(".png") { Self.fixPNGChecksums(&b) }
            do {
                let image = try ImageDecoder.decode(b)
                #expect(image.pixels.count == image.width * image.height * 3)
                decoded += 1
            } catch is ImagingError {
                rejected += 1
            }
        }
        #expect(decoded + rejected == 400)
        #expect(rejected > 0, "\(file): no mutant was rejected")
    }
}
