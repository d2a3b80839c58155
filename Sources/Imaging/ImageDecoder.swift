/// Decodes image files to 8-bit RGB, choosing the format from the leading bytes.
public enum ImageDecoder {
    /// An image file format this module can decode.
    public enum Format: String, Sendable {
        case png, jpeg, bmp, ppm
    }

    /// The format of `bytes` judged by its signature, or nil when none matches.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        if PNGDecoder.matches(bytes) { return .png }
        if JPEGDecoder.matches(bytes) { return .jpeg }
        if BMPDecoder.matches(bytes) { return .bmp }
        if PPMDecoder.matches(bytes) { return .ppm }
        return nil
    }

    /// Decodes PNG, JPEG, BMP (24/32-bit) or binary PPM (P6) to RGB the way Pillow's
    /// `Image.open(...).convert("RGB")` does (alpha dropped, no compositing).
    /// Throws an `ImagingError` for unknown, unsupported, malformed, truncated or oversized input.
    public static func decode(_ bytes: [UInt8]) throws -> RGBImage {
        switch sniff(bytes) {
        case .png: return try PNGDecoder.decode(bytes)
        case .jpeg: return try JPEGDecoder.decode(bytes)
        case .bmp: return try BMPDecoder.decode(bytes)
        case .ppm: return try PPMDecoder.decode(bytes)
        case nil: throw ImagingError.unknownFormat
        }
    }
}
