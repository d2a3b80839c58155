import Foundation
import Imaging
import Testing

/// Pillow `Image.resize` and transformers' CLIP / SigLIP processors as oracles.
@Suite struct ResizeAndProcessorTests {
    static let resizeCases: [String] = (try? Fixtures.entries("resize").compactMap { $0["reference"] as? String }) ?? []
    static let processCases: [String] = (try? Fixtures.entries("process").compactMap { $0["name"] as? String }) ?? []

    static func source() throws -> RGBImage {
        guard let src = try Fixtures.manifest()["resize_source"] as? [String: Any],
              let file = src["file"] as? String, let w = src["width"] as? Int, let h = src["height"] as? Int,
              let image = RGBImage(width: w, height: h, pixels: try Fixtures.bytes(file))
        else { throw Fixtures.Missing(description: "resize source") }
        return image
    }

    @Test func casesArePresent() {
        #expect(Self.resizeCases.count >= 10)
        #expect(Self.processCases.count >= 8)
    }

    @Test(arguments: resizeCases) func resizeMatchesPillowExactly(_ reference: String) throws {
        guard let entry = try Fixtures.entries("resize").first(where: { $0["reference"] as? String == reference }),
              let w = entry["width"] as? Int, let h = entry["height"] as? Int, let r = entry["resample"] as? Int,
              let filter = ResampleFilter(rawValue: r)
        else { Issue.record("bad manifest entry \(reference)"); return }
        let out = try Self.source().resized(width: w, height: h, filter: filter)
        let expected = try Fixtures.bytes(reference)
        #expect(out.width == w && out.height == h)
        let differing = zip(out.pixels, expected).filter { $0 != $1 }.count
        #expect(out.pixels.count == expected.count && differing == 0, "\(reference): \(differing) bytes differ")
    }

    @Test(arguments: processCases) func pixelValuesMatchTransformers(_ name: String) throws {
        guard let entry = try Fixtures.entries("process").first(where: { $0["name"] as? String == name }),
              let configFile = entry["config"] as? String, let source = entry["source"] as? String,
              let pad = entry["pad"] as? Bool, let shape = entry["shape"] as? [Int],
              let sum = entry["sum"] as? Double, let sumSquares = entry["sum_squares"] as? Double
        else { Issue.record("bad manifest entry \(name)"); return }
        let config = try ImageProcessorConfig(json: try Fixtures.bytes(configFile))
        let image = try ImageDecoder.decode(try Fixtures.bytes(source))
        let pv = try VisionProcessor(config: config).preprocess(image, aspectRatio: pad ? .pad : .none)
        #expect(pv.shape == shape)
        guard pv.shape == shape else { return }
        var maxErr: Float = 0
        if let ref = entry["reference"] as? String {
            let raw = try Fixtures.bytes(ref)
            #expect(raw.count == pv.data.count * 4)
            for i in 0..<min(pv.data.count, raw.count / 4) {
                let bits = UInt32(raw[4 * i]) | UInt32(raw[4 * i + 1]) << 8 | UInt32(raw[4 * i + 2]) << 16 | UInt32(raw[4 * i + 3]) << 24
                maxErr = max(maxErr, abs(pv.data[i] - Float(bitPattern: bits)))
            }
        } else if let idx = entry["sample_index"] as? [Int], let vals = entry["sample_value"] as? [Double] {
            #expect(idx.count == vals.count && idx.count > 100)
            for (i, v) in zip(idx, vals) { maxErr = max(maxErr, abs(pv.data[i] - Float(v))) }
        }
        #expect(maxErr <= 1e-5, "\(name): max abs error \(maxErr)")
        // Whole-tensor checksums (float64 sums over every value).
        let s = pv.data.reduce(0.0) { $0 + Double($1) }
        let s2 = pv.data.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(s - sum) <= 1e-5 * Double(pv.data.count), "\(name): sum \(s) vs \(sum)")
        #expect(abs(s2 - sumSquares) <= 1e-5 * Double(pv.data.count) * 10, "\(name): sum of squares \(s2) vs \(sumSquares)")
    }

    @Test func configDefaultsAndLegacyForms() throws {
        let llava = try ImageProcessorConfig(json: Array("""
            {"crop_size": {"height": 336, "width": 336}, "do_center_crop": true, "do_convert_rgb": true,
             "do_normalize": true, "do_rescale": true, "do_resize": true,
             "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
             "image_std": [0.26862954, 0.26130258, 0.27577711], "processor_class": "LlavaProcessor",
             "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 336}}
            """.utf8))
        #expect(llava == ImageProcessorConfig.llava15)
        #expect(llava.rescaleFactor == 1.0 / 255.0)  // parsed exactly, not via a lossy decimal
        // LLaVA's pad color truncates mean * 255: 122.77 -> 122, 116.75 -> 116, 104.09 -> 104.
        #expect(llava.padBackground == [122, 116, 104])

        let legacy = try ImageProcessorConfig(json: Array(#"{"size": 224, "crop_size": 224}"#.utf8))
        #expect(legacy.size == .shortestEdge(224) && legacy.cropSize == .init(height: 224, width: 224))
        #expect(legacy.imageMean == ImageProcessorConfig.openAIClipMean)

        let siglip = try ImageProcessorConfig(json: Array(#"{"image_processor_type": "SiglipImageProcessor", "size": {"height": 384, "width": 384}}"#.utf8))
        #expect(siglip.size == .exact(height: 384, width: 384) && !siglip.doCenterCrop && siglip.imageMean == [0.5, 0.5, 0.5])
        #expect(siglip.padBackground == [127, 127, 127])

        #expect(throws: ImagingError.self) { try ImageProcessorConfig(json: Array(#"{"size": {"longest_edge": 10}}"#.utf8)) }
        #expect(throws: ImagingError.self) { try ImageProcessorConfig(json: Array(#"{"image_std": [0, 1, 1]}"#.utf8)) }
        #expect(throws: ImagingError.self) { try ImageProcessorConfig(json: Array(#"{"resample": 9}"#.utf8)) }
        #expect(throws: ImagingError.self) { try ImageProcessorConfig(json: Array("[1, 2]".utf8)) }
        #expect(throws: ImagingError.self) { try ImageProcessorConfig(json: Array("{".utf8)) }
    }

    @Test func clipOutputSizeFollowsTransformers() {
        let p = VisionProcessor(config: .clip(shortestEdge: 336, crop: 336))
        // int(336 * 640 / 480) = 448; int(336 * 1000 / 333) = 1009 (1009.009...).
        #expect(p.outputSize(height: 480, width: 640) == (336, 448))
        #expect(p.outputSize(height: 1000, width: 333) == (1009, 336))
        #expect(p.outputSize(height: 5, width: 5) == (336, 336))
    }

    @Test func expandToSquareCentersWithFloorOffset() throws {
        // 3 wide, 1 high: pasted at row (3 - 1) // 2 = 1 of a 3x3 square.
        let img = try #require(RGBImage(width: 3, height: 1, pixels: [1, 2, 3, 4, 5, 6, 7, 8, 9]))
        let sq = img.expandedToSquare(background: [200, 100, 50])
        #expect(sq.width == 3 && sq.height == 3)
        #expect(Array(sq.pixels[9..<18]) == img.pixels)
        #expect(Array(sq.pixels[0..<3]) == [200, 100, 50] && Array(sq.pixels[24..<27]) == [200, 100, 50])
        // 1 wide, 2 high: column (2 - 1) // 2 = 0.
        let tall = try #require(RGBImage(width: 1, height: 2, pixels: [9, 9, 9, 8, 8, 8]))
        let t = tall.expandedToSquare(background: [0, 0, 0])
        #expect(t.pixels == [9, 9, 9, 0, 0, 0, 8, 8, 8, 0, 0, 0])
    }
}
