import Foundation

/// Where an image comes from: the forms SGLang accepts in `image_data`.
public enum ImageSource: Sendable, Hashable {
    /// Encoded file bytes.
    case bytes([UInt8])
    /// A `data:image/...;base64,...` URI.
    case dataURI(String)
    /// Raw base64 text of an encoded file.
    case base64(String)
    /// A local file path.
    case file(String)
    /// An `http://` or `https://` URL; fetched by the loader's hook, never by this module.
    case url(String)

    /// File extensions that make SGLang read a string as a path (plus the extra formats decoded here).
    public static let pathExtensions = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "ppm"]

    /// Classifies an `image_data` string in SGLang's order: http(s) URL, path with an image extension,
    /// `data:` URI, otherwise raw base64.
    public init(imageData s: String) {
        if s.hasPrefix("http://") || s.hasPrefix("https://") {
            self = .url(s)
        } else if Self.pathExtensions.contains(where: { s.lowercased().hasSuffix($0) }) {
            self = .file(s)
        } else if s.hasPrefix("data:") {
            self = .dataURI(s)
        } else {
            self = .base64(s)
        }
    }

    /// The encoded bytes for every source but `.url` (which throws: use `ImageLoader` with a fetcher).
    /// File reads are synchronous; call from a thread that may block.
    public func loadBytes(maxBytes: Int = ImageLoader.defaultMaxBytes) throws -> [UInt8] {
        let bytes: [UInt8]
        switch self {
        case .bytes(let b):
            bytes = b
        case .base64(let text):
            bytes = try Base64.decode(text)
        case .dataURI(let uri):
            // SGLang decodes everything after the first comma as base64.
            guard let comma = uri.firstIndex(of: ",") else { throw ImagingError.invalidBase64("data URI has no ','") }
            let header = uri[uri.startIndex..<comma]
            guard header.hasSuffix(";base64") else {
                throw ImagingError.invalidBase64("data URI is not base64-encoded (\(header))")
            }
            bytes = try Base64.decode(uri[uri.index(after: comma)...])
        case .file(let path):
            let url = URL(fileURLWithPath: path)
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > maxBytes {
                throw ImagingError.loadFailed("\(path) is \(size) bytes (limit \(maxBytes))")
            }
            do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
                throw ImagingError.loadFailed("cannot read \(path): \(error.localizedDescription)")
            }
        case .url(let u):
            throw ImagingError.loadFailed("\(u) needs a network fetch; use ImageLoader with a fetcher")
        }
        guard bytes.count <= maxBytes else { throw ImagingError.loadFailed("image data is \(bytes.count) bytes (limit \(maxBytes))") }
        return bytes
    }
}

/// Loads and decodes `ImageSource`s; http(s) URLs go through a caller-supplied fetcher so networking stays
/// out of this module.
public struct ImageLoader: Sendable {
    /// Fetches the body of an http(s) URL.
    public typealias Fetcher = @Sendable (_ url: String) async throws -> [UInt8]

    /// Largest encoded image accepted by default (64 MiB).
    public static let defaultMaxBytes = 64 << 20

    /// Fetches `.url` sources; nil makes them an error.
    public var fetcher: Fetcher?
    /// Largest encoded image accepted from any source.
    public var maxBytes: Int

    /// A loader with an optional URL fetcher and a size cap.
    public init(fetcher: Fetcher? = nil, maxBytes: Int = ImageLoader.defaultMaxBytes) {
        self.fetcher = fetcher
        self.maxBytes = maxBytes
    }

    /// The encoded bytes of `source`.
    public func bytes(of source: ImageSource) async throws -> [UInt8] {
        guard case .url(let u) = source else { return try source.loadBytes(maxBytes: maxBytes) }
        guard let fetcher else { throw ImagingError.loadFailed("no fetcher configured for \(u)") }
        let body = try await fetcher(u)
        guard body.count <= maxBytes else { throw ImagingError.loadFailed("\(u) returned \(body.count) bytes (limit \(maxBytes))") }
        return body
    }

    /// Loads and decodes `source` to RGB.
    public func load(_ source: ImageSource) async throws -> RGBImage {
        try ImageDecoder.decode(try await bytes(of: source))
    }

    /// Classifies an SGLang `image_data` string, loads and decodes it.
    public func load(imageData: String) async throws -> RGBImage {
        try await load(ImageSource(imageData: imageData))
    }
}
