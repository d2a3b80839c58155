import Foundation

/// An image added with `image(...)`: a file, a URL, or bytes. Files and bytes are base64-encoded when the
/// expression runs (as SGLang does); a URL is passed on as it is for the backend to fetch.
public struct ImageInput: Sendable, Hashable {
    /// Where the image came from.
    public enum Source: Sendable, Hashable {
        /// A local file path.
        case file(String)
        /// An http(s) or data URL.
        case url(String)
        /// Encoded image bytes (PNG, JPEG, …).
        case data([UInt8])
    }

    /// The source.
    public var source: Source
    /// Base64 of the bytes (nil for URLs).
    public var base64: String?

    /// Reads a file source (bytes and URLs need no reading).
    /// - Throws: `SGLangError.invalidProgram` when the file cannot be read.
    public init(_ source: Source) throws {
        self.source = source
        switch source {
        case .file(let path):
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw SGLangError.invalidProgram("cannot read the image file \(path)")
            }
            base64 = bytes.base64EncodedString()
        case .url:
            base64 = nil
        case .data(let bytes):
            base64 = Data(bytes).base64EncodedString()
        }
    }

    /// What a server's `image_data` takes: the base64 payload, or the URL.
    public var imageData: String {
        if let base64 { return base64 }
        if case .url(let u) = source { return u }
        return ""
    }

    /// A URL for OpenAI-style messages: `data:image/jpeg;base64,…` (SGLang's fixed media type) or the URL.
    public var url: String {
        if let base64 { return "data:image/jpeg;base64," + base64 }
        if case .url(let u) = source { return u }
        return ""
    }
}
