/// Why a tokenizer could not be loaded or used. Every message says what was wrong and where.
public enum TokenizerError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A file or folder is missing or unreadable.
    case fileNotFound(String)
    /// A tokenizer file is malformed: wrong JSON, wrong field types, inconsistent contents.
    case invalidFile(path: String, reason: String)
    /// tokenizer.json names a component type this implementation does not know.
    case unknownComponent(kind: String, type: String)
    /// A component is missing a required field or has one of the wrong type.
    case invalidComponent(kind: String, reason: String)
    /// A chat template could not be found or rendered.
    case chatTemplate(String)

    public var description: String {
        switch self {
        case .fileNotFound(let p): return "tokenizer file not found: \(p)"
        case .invalidFile(let p, let r): return "invalid tokenizer file \(p): \(r)"
        case .unknownComponent(let k, let t): return "unknown \(k) type '\(t)' in tokenizer.json"
        case .invalidComponent(let k, let r): return "invalid \(k) in tokenizer.json: \(r)"
        case .chatTemplate(let m): return "chat template: \(m)"
        }
    }
}
