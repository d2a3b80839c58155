/// Errors from decoding model configs and reading weight files.
///
/// Every case names what is wrong (the config key, the tensor, the file) so a user can act on it.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read (missing, unreadable, or not a regular file).
    case fileUnreadable(path: String, reason: String)
    /// A JSON document (config.json, an index, a safetensors header) did not parse.
    case invalidJSON(path: String, reason: String)
    /// `model_type` names an architecture this project does not implement.
    case unsupportedModelType(String, supported: [String])
    /// A key the architecture needs is absent (or null) in config.json.
    case missingField(String)
    /// A key is present but holds the wrong kind of value or an impossible number.
    case invalidField(String, reason: String)
    /// A safetensors file is malformed; `tensor` is nil for file-level problems (header, size).
    case invalidSafetensors(path: String, tensor: String?, reason: String)
    /// A weight the model needs is not in any weight file.
    case missingTensor(String)
    /// A weight has the wrong shape for the config.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// A weight's element type cannot be used where it was asked for.
    case unsupportedDType(tensor: String, dtype: String)
    /// A model folder has no weights in a format this loader reads.
    case noWeights(folder: String)
    /// The model cannot be split over `size` GPUs (`--tp-size`).
    case tensorParallel(size: Int, reason: String)

    public var description: String {
        switch self {
        case .fileUnreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .invalidJSON(let path, let reason):
            return "\(path) is not valid JSON: \(reason)"
        case .unsupportedModelType(let type, let supported):
            return "model_type '\(type)' is not supported; supported types: \(supported.joined(separator: ", "))"
        case .missingField(let key):
            return "config is missing the required key '\(key)'"
        case .invalidField(let key, let reason):
            return "config key '\(key)' is invalid: \(reason)"
        case .invalidSafetensors(let path, let tensor, let reason):
            if let tensor { return "\(path): tensor '\(tensor)': \(reason)" }
            return "\(path): \(reason)"
        case .missingTensor(let name):
            return "weight '\(name)' is missing from the checkpoint"
        case .shapeMismatch(let tensor, let expected, let actual):
            return "weight '\(tensor)' has shape \(actual), but the config implies \(expected)"
        case .unsupportedDType(let tensor, let dtype):
            return "weight '\(tensor)' has element type \(dtype), which cannot be converted to float32"
        case .noWeights(let folder):
            return "\(folder) holds neither model.safetensors nor model.safetensors.index.json"
        case .tensorParallel(let size, let reason):
            return "--tp-size \(size): \(reason)"
        }
    }
}
