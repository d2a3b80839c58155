/// A GGUF file (llama.cpp's model container): header, metadata and tensor directory.
public final class GGUFFile: Sendable {
    /// Every metadata key/value pair of the file.
    public let metadata: [String: GGUFValue]

    /// Opens and parses the GGUF file at `path`.
    public init(path: String) throws {
        metadata = [:]
    }
}

/// A metadata value of a GGUF file.
public enum GGUFValue: Sendable, Equatable {
    case string(String)
}
