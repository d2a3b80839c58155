/// Why an image could not be loaded, decoded or preprocessed.
public enum ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes match none of the supported formats (PNG, JPEG, BMP, binary PPM).
    case unknownFormat
    /// The file is a known format but uses a feature this decoder does not implement.
    case unsupported(String)
    /// The data is malformed (bad structure, checksum, Huffman code, ...).
    case corrupt(String)
    /// The data ends before the image is complete.
    case truncated(String)
    /// The declared dimensions are zero or exceed the decoder's limits.
    case badDimensions(width: Int, height: Int)
    /// Bad base64 text in an `image_data` string.
    case invalidBase64(String)
    /// An `image_data` value that cannot be loaded (e.g. a URL with no fetcher configured, an unreadable file).
    case loadFailed(String)
    /// An invalid preprocessing configuration or argument.
    case invalidConfig(String)

    public var description: String {
        switch self {
        case .unknownFormat: return "unrecognized image format (expected PNG, JPEG, BMP or binary PPM)"
        case .unsupported(let what): return "unsupported image feature: \(what)"
        case .corrupt(let what): return "corrupt image: \(what)"
        case .truncated(let what): return "truncated image: \(what)"
        case .badDimensions(let w, let h): return "bad image dimensions \(w)x\(h) (limit \(ImageLimits.maxSide) per side, \(ImageLimits.maxPixels) pixels)"
        case .invalidBase64(let what): return "invalid base64 image data: \(what)"
        case .loadFailed(let what): return "cannot load image: \(what)"
        case .invalidConfig(let what): return "invalid image processor configuration: \(what)"
        }
    }
}

/// Size limits every decoder enforces before allocating pixel memory.
public enum ImageLimits {
    /// Largest accepted width or height.
    public static let maxSide = 16384
    /// Largest accepted pixel count (width × height).
    public static let maxPixels = 1 << 28

    /// Throws `badDimensions` unless `width × height` is a non-empty image within the limits.
    public static func check(width: Int, height: Int) throws(ImagingError) {
        guard width > 0, height > 0, width <= maxSide, height <= maxSide, width * height <= maxPixels else {
            throw .badDimensions(width: width, height: height)
        }
    }
}
