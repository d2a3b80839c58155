import Foundation

/// The fields of a Hugging Face `preprocessor_config.json` that CLIP- and SigLIP-style image processors read,
/// with each processor's defaults for absent fields.
public struct ImageProcessorConfig: Sendable, Equatable {
    /// How `do_resize` sizes the image.
    public enum Size: Sendable, Equatable {
        /// Scale so the shorter side is `n` and the longer side `int(n * long / short)` (CLIP).
        case shortestEdge(Int)
        /// Scale to exactly `height × width` (SigLIP).
        case exact(height: Int, width: Int)
    }

    /// A crop or output size in pixels.
    public struct Extent: Sendable, Equatable {
        /// Rows.
        public var height: Int
        /// Columns.
        public var width: Int
        /// An extent of `height × width` pixels.
        public init(height: Int, width: Int) { self.height = height; self.width = width }
    }

    /// `image_processor_type`, e.g. `CLIPImageProcessor` or `SiglipImageProcessor`.
    public var imageProcessorType: String
    /// `do_resize`.
    public var doResize: Bool
    /// `size`.
    public var size: Size
    /// `resample` (Pillow filter number; 3 = bicubic).
    public var resample: ResampleFilter
    /// `do_center_crop`.
    public var doCenterCrop: Bool
    /// `crop_size`.
    public var cropSize: Extent
    /// `do_rescale`.
    public var doRescale: Bool
    /// `rescale_factor` (1/255).
    public var rescaleFactor: Double
    /// `do_normalize`.
    public var doNormalize: Bool
    /// Per-channel mean (R, G, B).
    public var imageMean: [Double]
    /// Per-channel standard deviation (R, G, B).
    public var imageStd: [Double]
    /// `do_convert_rgb` (decoded images are always RGB, so this has no further effect).
    public var doConvertRGB: Bool

    /// `OPENAI_CLIP_MEAN`.
    public static let openAIClipMean = [0.48145466, 0.4578275, 0.40821073]
    /// `OPENAI_CLIP_STD`.
    public static let openAIClipStd = [0.26862954, 0.26130258, 0.27577711]

    /// `CLIPImageProcessor` defaults (resize shortest edge, center crop, OpenAI CLIP mean/std).
    public static func clip(shortestEdge: Int = 224, crop: Int = 224) -> ImageProcessorConfig {
        ImageProcessorConfig(
            imageProcessorType: "CLIPImageProcessor", doResize: true, size: .shortestEdge(shortestEdge), resample: .bicubic,
            doCenterCrop: true, cropSize: Extent(height: crop, width: crop), doRescale: true, rescaleFactor: 1.0 / 255.0,
            doNormalize: true, imageMean: openAIClipMean, imageStd: openAIClipStd, doConvertRGB: true)
    }

    /// `SiglipImageProcessor` defaults (resize to a fixed size, no crop, mean = std = 0.5).
    public static func siglip(height: Int = 224, width: Int = 224) -> ImageProcessorConfig {
        ImageProcessorConfig(
            imageProcessorType: "SiglipImageProcessor", doResize: true, size: .exact(height: height, width: width),
            resample: .bicubic, doCenterCrop: false, cropSize: Extent(height: height, width: width), doRescale: true,
            rescaleFactor: 1.0 / 255.0, doNormalize: true, imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5],
            doConvertRGB: true)
    }

    /// llava-hf/llava-1.5: CLIP ViT-L/14 at 336 px.
    public static let llava15 = clip(shortestEdge: 336, crop: 336)

    /// The background LLaVA's `expand2square` pads with: `tuple(int(x * 255) for x in image_mean)` (truncated).
    public var padBackground: [UInt8] {
        imageMean.map { UInt8(clamping: Int(($0 * 255).rounded(.towardZero))) }
    }

    /// A configuration from explicit values (see the presets for the processors' defaults).
    public init(imageProcessorType: String, doResize: Bool, size: Size, resample: ResampleFilter, doCenterCrop: Bool,
                cropSize: Extent, doRescale: Bool, rescaleFactor: Double, doNormalize: Bool, imageMean: [Double],
                imageStd: [Double], doConvertRGB: Bool) {
        self.imageProcessorType = imageProcessorType
        self.doResize = doResize
        self.size = size
        self.resample = resample
        self.doCenterCrop = doCenterCrop
        self.cropSize = cropSize
        self.doRescale = doRescale
        self.rescaleFactor = rescaleFactor
        self.doNormalize = doNormalize
        self.imageMean = imageMean
        self.imageStd = imageStd
        self.doConvertRGB = doConvertRGB
    }

    /// Reads `preprocessor_config.json` text. Absent fields take the defaults of the named processor type
    /// (SigLIP when the type mentions "Siglip", CLIP otherwise). Legacy integer `size` / `crop_size` are accepted.
    public init(json: [UInt8]) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json))
        } catch {
            throw ImagingError.invalidConfig("preprocessor_config.json is not valid JSON (\(error.localizedDescription))")
        }
        guard let dict = object as? [String: Any] else { throw ImagingError.invalidConfig("preprocessor_config.json is not an object") }
        try self.init(dictionary: dict)
    }

    /// Reads a file holding `preprocessor_config.json`.
    public init(contentsOf path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImagingError.loadFailed("cannot read \(path): \(error.localizedDescription)")
        }
        try self.init(json: [UInt8](data))
    }

    /// Builds the config from an already-parsed JSON object.
    public init(dictionary d: [String: Any]) throws {
        let type = d["image_processor_type"] as? String ?? "CLIPImageProcessor"
        let isSiglip = type.lowercased().contains("siglip")
        self = isSiglip ? .siglip() : .clip()
        imageProcessorType = type

        func bool(_ key: String) throws -> Bool? {
            guard let v = d[key], !(v is NSNull) else { return nil }
            guard let b = v as? Bool else { throw ImagingError.invalidConfig("\(key) must be a boolean") }
            return b
        }
        func number(_ v: Any, _ key: String) throws -> Double {
            guard let n = v as? NSNumber, !(v is Bool) else { throw ImagingError.invalidConfig("\(key) must be a number") }
            // JSONSerialization on Linux yields NSDecimalNumber, whose doubleValue can be off by an ulp
            // (0.00392156862745098 must be exactly 1/255); its decimal text converts exactly.
            if let d = n as? NSDecimalNumber, let exact = Double(d.stringValue) { return exact }
            return n.doubleValue
        }
        func positive(_ v: Any, _ key: String) throws -> Int {
            let x = try number(v, key)
            guard x == x.rounded(), x >= 1, x <= Double(ImageLimits.maxSide) else {
                throw ImagingError.invalidConfig("\(key) must be a whole number of pixels in 1...\(ImageLimits.maxSide)")
            }
            return Int(x)
        }
        func extent(_ v: Any, _ key: String) throws -> Extent {
            if let s = v as? [String: Any] {
                guard let h = s["height"], let w = s["width"] else { throw ImagingError.invalidConfig("\(key) needs height and width") }
                return Extent(height: try positive(h, "\(key).height"), width: try positive(w, "\(key).width"))
            }
            let n = try positive(v, key)
            return Extent(height: n, width: n)
        }
        func triple(_ key: String) throws -> [Double]? {
            guard let v = d[key], !(v is NSNull) else { return nil }
            if let list = v as? [Any] {
                let values = try list.map { try number($0, key) }
                if values.count == 3 { return values }
                if values.count == 1 { return [values[0], values[0], values[0]] }
                throw ImagingError.invalidConfig("\(key) must have 1 or 3 values, not \(values.count)")
            }
            let x = try number(v, key)
            return [x, x, x]
        }

        if let b = try bool("do_resize") { doResize = b }
        if let b = try bool("do_center_crop") { doCenterCrop = b }
        if let b = try bool("do_rescale") { doRescale = b }
        if let b = try bool("do_normalize") { doNormalize = b }
        if let b = try bool("do_convert_rgb") { doConvertRGB = b }
        if let v = d["rescale_factor"], !(v is NSNull) { rescaleFactor = try number(v, "rescale_factor") }
        if let v = d["resample"], !(v is NSNull) {
            let n = try number(v, "resample")
            guard let filter = ResampleFilter(rawValue: Int(n)), Double(Int(n)) == n else {
                throw ImagingError.invalidConfig("resample \(n) is not a Pillow filter (0...5)")
            }
            resample = filter
        }
        if let m = try triple("image_mean") { imageMean = m }
        if let s = try triple("image_std") {
            guard !s.contains(0) else { throw ImagingError.invalidConfig("image_std must not contain 0") }
            imageStd = s
        }
        if let v = d["crop_size"], !(v is NSNull) { cropSize = try extent(v, "crop_size") }
        if let v = d["size"], !(v is NSNull) {
            if let s = v as? [String: Any] {
                if let e = s["shortest_edge"] {
                    size = .shortestEdge(try positive(e, "size.shortest_edge"))
                } else if s["height"] != nil {
                    let e = try extent(s, "size")
                    size = .exact(height: e.height, width: e.width)
                } else {
                    throw ImagingError.invalidConfig("size must have shortest_edge or height and width (got \(s.keys.sorted()))")
                }
            } else {
                // Legacy integer size: CLIP reads it as the shortest edge, SigLIP as a square.
                let n = try positive(v, "size")
                size = isSiglip ? .exact(height: n, width: n) : .shortestEdge(n)
            }
        }
    }
}
