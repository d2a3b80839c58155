/// One image of a request (`image_data`), as the client sent it.
public enum ImageData: Sendable, Hashable {
    /// The encoded file (PNG, JPEG, ...).
    case bytes([UInt8])
    /// A `data:` URI, raw base64, or a local file path. (http(s) URLs are fetched by the server, which passes
    /// the bytes on; the engine itself reads no network.)
    case source(String)
}
