/// Why a GGUF file could not be opened or read. Every case names what was wrong and where (a byte offset
/// into the file, a metadata key or a tensor name), so a broken download can be told from a bug.
public enum GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened, examined or mapped.
    case cannotOpen(path: String, reason: String)
    /// The file ends before `what` (which needs `needed` bytes at `offset`) is complete.
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    /// The file does not start with the four bytes "GGUF".
    case badMagic(found: [UInt8])
    /// The header names a GGUF version this reader does not handle (only 2 and 3 are).
    case unsupportedVersion(UInt32)
    /// A count or length is larger than the rest of the file could possibly hold.
    case implausibleCount(what: String, count: UInt64, offset: Int)
    /// A metadata value type id is not one of the 13 GGUF value types.
    case unknownValueType(id: UInt32, key: String, offset: Int)
    /// A string is not valid UTF-8.
    case invalidUTF8(what: String, offset: Int)
    /// Arrays are nested deeper than this reader accepts.
    case nestingTooDeep(key: String, offset: Int)
    /// The same metadata key appears twice.
    case duplicateKey(String)
    /// A metadata value has the wrong type or an impossible value (e.g. `general.alignment` = 0).
    case invalidMetadata(key: String, reason: String)
    /// A tensor's ggml type id is not a known (or is a removed) ggml type.
    case unknownTensorType(id: UInt32, tensor: String)
    /// A tensor's description is inconsistent: too many dimensions, sizes that overflow, misaligned offset,
    /// a row length that is not a whole number of blocks, or bytes past the end of the file.
    case invalidTensor(name: String, reason: String)
    /// Two tensors have the same name.
    case duplicateTensor(String)
    /// No tensor of that name is in the file.
    case tensorNotFound(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open GGUF file \(path): \(reason)"
        case .truncated(let what, let offset, let needed, let fileSize):
            return "GGUF file is truncated: \(what) needs \(needed) bytes at offset \(offset), but the file has \(fileSize) bytes"
        case .badMagic(let found):
            let hex = found.map { String($0, radix: 16) }.joined(separator: " ")
            return "not a GGUF file: expected magic \"GGUF\" (47 47 55 46), found \(hex)"
        case .unsupportedVersion(let version):
            if version == 1 {
                return "GGUF version 1 is obsolete and not supported (versions 2 and 3 are); re-convert the model with a current llama.cpp"
            }
            if version > 0xFFFF {
                return "unsupported GGUF version \(version) (a big-endian file?); versions 2 and 3 are supported"
            }
            return "unsupported GGUF version \(version); versions 2 and 3 are supported"
        case .implausibleCount(let what, let count, let offset):
            return "GGUF file is corrupt: \(what) at offset \(offset) is \(count), more than the rest of the file can hold"
        case .unknownValueType(let id, let key, let offset):
            return "GGUF metadata '\(key)' has unknown value type \(id) at offset \(offset)"
        case .invalidUTF8(let what, let offset):
            return "GGUF file has a string that is not valid UTF-8: \(what) at offset \(offset)"
        case .nestingTooDeep(let key, let offset):
            return "GGUF metadata '\(key)' nests arrays too deeply at offset \(offset)"
        case .duplicateKey(let key):
            return "GGUF metadata key '\(key)' appears more than once"
        case .invalidMetadata(let key, let reason):
            return "GGUF metadata '\(key)' is invalid: \(reason)"
        case .unknownTensorType(let id, let tensor):
            return "GGUF tensor '\(tensor)' has unknown ggml type id \(id)"
        case .invalidTensor(let name, let reason):
            return "GGUF tensor '\(name)' is invalid: \(reason)"
        case .duplicateTensor(let name):
            return "GGUF tensor '\(name)' appears more than once"
        case .tensorNotFound(let name):
            return "no tensor named '\(name)' in the GGUF file"
        }
    }
}
