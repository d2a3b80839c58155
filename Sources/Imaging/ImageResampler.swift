import Foundation

/// Pillow's resampling filters, numbered as `PIL.Image.Resampling` (and HF's `resample` config field).
public enum ResampleFilter: Int, Sendable, Codable, CaseIterable {
    case nearest = 0, lanczos = 1, bilinear = 2, bicubic = 3, box = 4, hamming = 5

    /// Half-width of the kernel at scale 1.
    var support: Double {
        switch self {
        case .nearest, .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The kernel, as Pillow's `libImaging/Resample.c` defines it (bicubic with a = -0.5).
    func weight(_ x0: Double) -> Double {
        switch self {
        case .nearest, .box:
            return x0 > -0.5 && x0 <= 0.5 ? 1 : 0
        case .bilinear:
            let x = abs(x0)
            return x < 1 ? 1 - x : 0
        case .hamming:
            var x = abs(x0)
            if x == 0 { return 1 }
            if x >= 1 { return 0 }
            x *= Double.pi
            return sin(x) / x * (0.54 + 0.46 * cos(x))
        case .bicubic:
            let a = -0.5
            let x = abs(x0)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            guard x0 >= -3, x0 < 3 else { return 0 }
            return Self.sinc(x0) * Self.sinc(x0 / 3)
        }
    }

    static func sinc(_ x0: Double) -> Double {
        if x0 == 0 { return 1 }
        let x = x0 * Double.pi
        return sin(x) / x
    }
}

/// `Image.resize` of Pillow (13.x) for 8-bit RGB, reproduced exactly: separable convolution (horizontal pass
/// first, only over the rows the vertical pass reads, except that a much larger height reduction goes vertical
/// first), support widened by the downscale factor, coefficients normalized in double precision then rounded to
/// 22-bit fixed point, uint8 rounding and clipping between passes.
public enum ImageResampler {
    static let precisionBits = 32 - 8 - 2

    /// Resizes `image` to `width × height` with `filter`, giving the bytes Pillow gives.
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter = .bicubic) throws -> RGBImage {
        try ImageLimits.check(width: width, height: height)
        if width == image.width && height == image.height { return image }
        if filter == .nearest { return nearest(image, width: width, height: height) }
        let needH = width != image.width, needV = height != image.height
        let (kh, bh, ksH) = coefficients(inSize: image.width, outSize: width, filter: filter)
        let (kv, bvOriginal, ksV) = coefficients(inSize: image.height, outSize: height, filter: filter)
        var bv = bvOriginal
        var src = image.pixels
        var srcWidth = image.width, srcHeight = image.height
        // Pillow 13 (python-pillow/Pillow#9549) runs the vertical pass first when the height shrinks by more than
        // twice as many pixels as the width; the uint8 rounding between passes makes the order visible.
        if needH && needV && height < image.height && image.height - height > 2 * (image.width - width) {
            var tmp = [UInt8](repeating: 0, count: image.width * height * 3)
            convolve(src: src, srcStride: srcWidth * 3, dst: &tmp, outer: height, inner: image.width,
                     outerSrcOffset: 0, kernel: kv, bounds: bv, ksize: ksV, horizontal: false)
            var out = [UInt8](repeating: 0, count: width * height * 3)
            convolve(src: tmp, srcStride: image.width * 3, dst: &out, outer: height, inner: width,
                     outerSrcOffset: 0, kernel: kh, bounds: bh, ksize: ksH, horizontal: true)
            guard let result = RGBImage(width: width, height: height, pixels: out) else {
                throw ImagingError.badDimensions(width: width, height: height)
            }
            return result
        }
        if needH {
            // Rows the vertical pass will read.
            let first = bv[0]
            let last = needV ? bv[2 * height - 2] + bv[2 * height - 1] : image.height
            let rows = needV ? last - first : image.height
            let rowOffset = needV ? first : 0
            if needV { for i in 0..<height { bv[2 * i] -= first } }
            var tmp = [UInt8](repeating: 0, count: width * rows * 3)
            convolve(src: src, srcStride: srcWidth * 3, dst: &tmp, outer: rows, inner: width,
                     outerSrcOffset: rowOffset, kernel: kh, bounds: bh, ksize: ksH, horizontal: true)
            src = tmp; srcWidth = width; srcHeight = rows
        }
        if needV {
            var out = [UInt8](repeating: 0, count: width * height * 3)
            convolve(src: src, srcStride: srcWidth * 3, dst: &out, outer: height, inner: width,
                     outerSrcOffset: 0, kernel: kv, bounds: bv, ksize: ksV, horizontal: false)
            src = out; srcHeight = height
        }
        guard let result = RGBImage(width: width, height: srcHeight, pixels: src) else {
            throw ImagingError.badDimensions(width: width, height: height)
        }
        return result
    }

    /// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`: per output index, the first input index, the tap
    /// count, and `ksize` fixed-point taps.
    static func coefficients(inSize: Int, outSize: Int, filter: ResampleFilter) -> ([Int32], [Int], Int) {
        // Pillow passes the box as C floats; integer sizes convert exactly.
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var kernel = [Int32](repeating: 0, count: outSize * ksize)
        var bounds = [Int](repeating: 0, count: outSize * 2)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1 / filterScale
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            var xmin = Int(center - support + 0.5)  // C cast: truncation toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax = min(max(0, xmax - xmin), ksize)
            var ww = 0.0
            for x in 0..<ksize { k[x] = 0 }
            for x in 0..<xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<xmax where ww != 0 { k[x] /= ww }
            let one = Double(1 << precisionBits)
            for x in 0..<ksize {
                let v = k[x]
                kernel[xx * ksize + x] = Int32(v < 0 ? (-0.5 + v * one).rounded(.towardZero) : (0.5 + v * one).rounded(.towardZero))
            }
            bounds[2 * xx] = xmin
            bounds[2 * xx + 1] = xmax
        }
        return (kernel, bounds, ksize)
    }

    @inline(__always) static func clip8(_ v: Int) -> UInt8 {
        if v >= 1 << (precisionBits + 8) { return 255 }
        if v <= 0 { return 0 }
        return UInt8(v >> precisionBits)
    }

    /// One separable pass. Horizontal: `outer` rows × `inner` output columns. Vertical: `outer` output rows ×
    /// `inner` columns.
    static func convolve(src: [UInt8], srcStride: Int, dst: inout [UInt8], outer: Int, inner: Int, outerSrcOffset: Int,
                         kernel: [Int32], bounds: [Int], ksize: Int, horizontal: Bool) {
        let half = 1 << (precisionBits - 1)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                kernel.withUnsafeBufferPointer { kk in
                    for o in 0..<outer {
                        for i in 0..<inner {
                            var s0 = half, s1 = half, s2 = half
                            let j = horizontal ? i : o  // index into the kernel table
                            let start = bounds[2 * j], taps = bounds[2 * j + 1]
                            let kb = j * ksize
                            if horizontal {
                                var p = (o + outerSrcOffset) * srcStride + start * 3
                                for t in 0..<taps {
                                    let w = Int(kk[kb + t])
                                    s0 += Int(s[p]) * w; s1 += Int(s[p + 1]) * w; s2 += Int(s[p + 2]) * w
                                    p += 3
                                }
                            } else {
                                var p = start * srcStride + i * 3
                                for t in 0..<taps {
                                    let w = Int(kk[kb + t])
                                    s0 += Int(s[p]) * w; s1 += Int(s[p + 1]) * w; s2 += Int(s[p + 2]) * w
                                    p += srcStride
                                }
                            }
                            let q = (o * inner + i) * 3
                            d[q] = clip8(s0); d[q + 1] = clip8(s1); d[q + 2] = clip8(s2)
                        }
                    }
                }
            }
        }
    }

    /// Pillow's NEAREST resize (`ImagingScaleAffine`): source coordinates accumulated in double precision.
    static func nearest(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        func table(_ inSize: Int, _ outSize: Int) -> [Int] {
            let a = Double(inSize) / Double(outSize)
            var v = a * 0.5
            var t = [Int](repeating: 0, count: outSize)
            for i in 0..<outSize {
                t[i] = v < 0 ? 0 : min(Int(v), inSize - 1)
                v += a
            }
            return t
        }
        let xs = table(image.width, width), ys = table(image.height, height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let s = (ys[y] * image.width + xs[x]) * 3, d = (y * width + x) * 3
                out[d] = image.pixels[s]; out[d + 1] = image.pixels[s + 1]; out[d + 2] = image.pixels[s + 2]
            }
        }
        return RGBImage(width: width, height: height, pixels: out) ?? image
    }
}
