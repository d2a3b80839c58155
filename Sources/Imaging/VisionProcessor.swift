/// A preprocessed image for a vision tower: Float32, channels-first `3 × height × width`.
public struct PixelValues: Sendable, Equatable {
    /// Always 3 (R, G, B planes).
    public var channels: Int { 3 }
    /// Rows per plane.
    public let height: Int
    /// Columns per plane.
    public let width: Int
    /// `3 × height × width` values, plane after plane.
    public var data: [Float]

    /// The shape `[3, height, width]`.
    public var shape: [Int] { [3, height, width] }
}

/// SGLang's `image_aspect_ratio` handling before the image processor.
public enum ImageAspectRatio: String, Sendable {
    /// Feed the image to the processor as is.
    case none
    /// LLaVA's `expand2square`: pad to a square filled with the processor's mean color, image centered.
    case pad
}

/// Hugging Face `CLIPImageProcessor` / `SiglipImageProcessor` (PIL backend) in Swift: resize with Pillow's
/// resampling, center crop, rescale, normalize. Outputs agree with transformers to float32 rounding.
public struct VisionProcessor: Sendable {
    /// The processor's settings.
    public let config: ImageProcessorConfig

    /// A processor for `config`.
    public init(config: ImageProcessorConfig) {
        self.config = config
    }

    /// Applies `aspectRatio` (SGLang), then the processor; returns `pixel_values` for one image.
    public func preprocess(_ image: RGBImage, aspectRatio: ImageAspectRatio = .none) throws -> PixelValues {
        var img = image
        if aspectRatio == .pad { img = img.expandedToSquare(background: config.padBackground) }
        if config.doResize {
            let (h, w) = outputSize(height: img.height, width: img.width)
            img = try ImageResampler.resize(img, width: w, height: h, filter: config.resample)
        }
        if config.doCenterCrop {
            img = try img.centerCropped(height: config.cropSize.height, width: config.cropSize.width)
        }
        return normalized(img)
    }

    /// The resize target `(height, width)` for an input size, as transformers computes it.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        switch config.size {
        case .exact(let h, let w):
            return (h, w)
        case .shortestEdge(let s):
            let short = min(height, width), long = max(height, width)
            // Python: int(size * long / short), a float division truncated.
            let newLong = Int((Double(s * long) / Double(short)).rounded(.towardZero))
            return width <= height ? (newLong, s) : (s, newLong)
        }
    }

    /// Rescale and normalize exactly as numpy does: `float32(float64(v) * factor)`, then `(x - mean) / std` in float32.
    func normalized(_ img: RGBImage) -> PixelValues {
        let plane = img.width * img.height
        var out = [Float](repeating: 0, count: 3 * plane)
        let mean = config.imageMean.map { Float($0) }, std = config.imageStd.map { Float($0) }
        let factor = config.rescaleFactor
        let rescale = config.doRescale, normalize = config.doNormalize
        img.pixels.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { o in
                for c in 0..<3 {
                    let m = mean[c], s = std[c]
                    for i in 0..<plane {
                        let v = px[3 * i + c]
                        var f = rescale ? Float(Double(v) * factor) : Float(v)
                        if normalize { f = (f - m) / s }
                        o[c * plane + i] = f
                    }
                }
            }
        }
        return PixelValues(height: img.height, width: img.width, data: out)
    }
}

extension RGBImage {
    /// Pillow `Image.resize((width, height), resample=filter)`.
    public func resized(width: Int, height: Int, filter: ResampleFilter = .bicubic) throws -> RGBImage {
        try ImageResampler.resize(self, width: width, height: height, filter: filter)
    }

    /// LLaVA's `expand2square`: a square of side `max(width, height)` filled with `background` (R, G, B), the
    /// image pasted at offset `(side - size) / 2` (floor) along the short axis.
    public func expandedToSquare(background: [UInt8]) -> RGBImage {
        guard width != height else { return self }
        let side = max(width, height)
        let bg = background.count == 3 ? background : [0, 0, 0]
        var out = [UInt8](repeating: 0, count: side * side * 3)
        for i in 0..<(side * side) { out[3 * i] = bg[0]; out[3 * i + 1] = bg[1]; out[3 * i + 2] = bg[2] }
        let x0 = width < side ? (side - width) / 2 : 0
        let y0 = height < side ? (side - height) / 2 : 0
        for y in 0..<height {
            let s = y * width * 3, d = ((y + y0) * side + x0) * 3
            out.replaceSubrange(d..<(d + width * 3), with: pixels[s..<(s + width * 3)])
        }
        return RGBImage(width: side, height: side, pixels: out) ?? self
    }

    /// transformers' `center_crop`: offsets `(size - crop) // 2`; a crop larger than the image pads with zeros
    /// (the image placed at `ceil((crop - size) / 2)`).
    public func centerCropped(height cropH: Int, width cropW: Int) throws -> RGBImage {
        try ImageLimits.check(width: cropW, height: cropH)
        // Python floor division, also for negative differences.
        func floorDiv2(_ v: Int) -> Int { v >= 0 ? v / 2 : -((-v + 1) / 2) }
        var top = floorDiv2(height - cropH), left = floorDiv2(width - cropW)
        if top >= 0 && left >= 0 && top + cropH <= height && left + cropW <= width {
            var out = [UInt8](repeating: 0, count: cropW * cropH * 3)
            for y in 0..<cropH {
                let s = ((y + top) * width + left) * 3
                out.replaceSubrange((y * cropW * 3)..<((y + 1) * cropW * 3), with: pixels[s..<(s + cropW * 3)])
            }
            return RGBImage(width: cropW, height: cropH, pixels: out) ?? self
        }
        // Pad to at least the crop size, then crop.
        let newH = max(cropH, height), newW = max(cropW, width)
        let topPad = (newH - height + 1) / 2, leftPad = (newW - width + 1) / 2
        var padded = [UInt8](repeating: 0, count: newW * newH * 3)
        for y in 0..<height {
            let s = y * width * 3, d = ((y + topPad) * newW + leftPad) * 3
            padded.replaceSubrange(d..<(d + width * 3), with: pixels[s..<(s + width * 3)])
        }
        top += topPad; left += leftPad
        let y0 = max(0, top), y1 = min(newH, top + cropH), x0 = max(0, left), x1 = min(newW, left + cropW)
        let outW = x1 - x0, outH = y1 - y0
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        for y in 0..<outH {
            let s = ((y + y0) * newW + x0) * 3
            out.replaceSubrange((y * outW * 3)..<((y + 1) * outW * 3), with: padded[s..<(s + outW * 3)])
        }
        guard let result = RGBImage(width: outW, height: outH, pixels: out) else {
            throw ImagingError.badDimensions(width: outW, height: outH)
        }
        return result
    }
}
