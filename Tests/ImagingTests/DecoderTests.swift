import Foundation
import Imaging
import Testing

/// Decoding against Pillow's `Image.open(...).convert("RGB")` of the same files.
@Suite struct DecoderTests {
    static let cases: [String] = (try? Fixtures.entries("decode").compactMap { $0["file"] as? String }) ?? []

    @Test func manifestListsCases() throws {
        #expect(try Fixtures.entries("decode").count >= 30)
    }

    @Test(arguments: cases) func decodesLikePillow(_ file: String) throws {
        guard let entry = try Fixtures.entries("decode").first(where: { $0["file"] as? String == file }),
              let kind = entry["kind"] as? String, let width = entry["width"] as? Int, let height = entry["height"] as? Int
        else { Issue.record("no manifest entry for \(file)"); return }
        let image = try ImageDecoder.decode(try Fixtures.bytes(file))
        #expect(image.width == width && image.height == height)
        let expected = try Fixtures.referenceRGB(entry)
        #expect(image.pixels.count == expected.count)
        guard image.pixels.count == expected.count else { return }
        var maxDiff = 0, differing = 0
        for i in 0..<expected.count {
            let d = abs(Int(image.pixels[i]) - Int(expected[i]))
            if d > 0 { differing += 1 }
            maxDiff = max(maxDiff, d)
        }
        if kind == "jpeg" {
            // libjpeg-turbo's SIMD paths may round differently from the C reference; allow ±2.
            print("JPEG \(file): max diff \(maxDiff), \(differing) of \(expected.count) samples differ")
            #expect(maxDiff <= 2, "\(file): max diff \(maxDiff)")
        } else {
            #expect(maxDiff == 0, "\(file): \(differing) samples differ, max diff \(maxDiff)")
        }
    }

    /// Reports decode time of the 1024x768 4:2:0 JPEG (CPU time of this thread; printed, not asserted).
    @Test func largeJPEGDecodeTime() throws {
        let bytes = try Fixtures.bytes("decode/large_420.jpg")
        var best = Double.infinity
        for _ in 0..<3 {
            var t0 = timespec(), t1 = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0)
            let image = try ImageDecoder.decode(bytes)
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1)
            #expect(image.width == 1024 && image.height == 768)
            best = min(best, Double(t1.tv_sec - t0.tv_sec) * 1e3 + Double(t1.tv_nsec - t0.tv_nsec) / 1e6)
        }
        print("ImagingTests: 1024x768 4:2:0 JPEG decode \(String(format: "%.1f", best)) ms CPU")
    }
}
