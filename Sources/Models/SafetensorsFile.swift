import GGUF
import JSON

/// One `.safetensors` file, memory-mapped, with its header parsed and validated.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON header
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`), then the tensor
/// data; offsets are relative to the first byte after the header. Opening checks every entry, so reading a
/// tensor later cannot go out of bounds.
public final class SafetensorsFile: WeightSource {
    /// Headers above this size are refused, as the reference implementation does (100 MB).
    public static let maxHeaderLength = 100_000_000

    /// The file's path.
    public let path: String
    /// Every tensor name, sorted.
    public let names: [String]
    /// String entries of `__metadata__` (e.g. `format: pt`); informational only.
    public let metadata: [String: String]

    private let mapping: MappedBytes
    private let entries: [String: Entry]
    private let dataStart: Int

    struct Entry: Sendable {
        let info: TensorInfo
        let begin: Int
        let end: Int
    }

    /// Maps and validates the file at `path`.
    public init(path: String) throws {
        let mapping: MappedBytes
        do {
            mapping = try MappedBytes(mapping: path)
        } catch GGUFError.cannotOpen(_, let reason) {
            throw ModelError.fileUnreadable(path: path, reason: reason)
        }
        guard mapping.count > 0 else {
            throw ModelError.invalidSafetensors(path: path, tensor: nil, reason: "file is empty")
        }
        self.path = path
        self.mapping = mapping
        (entries, metadata, dataStart) = try Self.parse(mapping.bytes, path: path)
        names = entries.keys.sorted()
    }

    /// Size of the file in bytes.
    public var fileSize: Int { mapping.count }

    public func info(named name: String) throws -> TensorInfo {
        guard let e = entries[name] else { throw ModelError.missingTensor(name) }
        return e.info
    }

    public func tensor(named name: String) throws -> TensorData {
        guard let e = entries[name] else { throw ModelError.missingTensor(name) }
        let bytes = UnsafeRawBufferPointer(rebasing: mapping.bytes[(dataStart + e.begin)..<(dataStart + e.end)])
        return TensorData(info: e.info, bytes: bytes, owner: mapping)
    }

    // MARK: - Header parsing

    private static func parse(
        _ file: UnsafeRawBufferPointer, path: String
    ) throws -> ([String: Entry], [String: String], Int) {
        func fail(_ reason: String, tensor: String? = nil) -> ModelError {
            .invalidSafetensors(path: path, tensor: tensor, reason: reason)
        }
        guard file.count >= 8 else {
            throw fail("file is \(file.count) bytes, too short for the 8-byte header length (truncated?)")
        }
        let rawLength = file.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard rawLength >= 2, rawLength <= UInt64(maxHeaderLength) else {
            throw fail("header length \(rawLength) is not sane (must be 2...\(maxHeaderLength) bytes)")
        }
        let headerLength = Int(rawLength)
        guard 8 + headerLength <= file.count else {
            throw fail("header length \(headerLength) runs past the end of the \(file.count)-byte file (truncated?)")
        }
        guard let base = file.baseAddress else { throw fail("file is empty") }
        let headerBytes = UnsafeBufferPointer(start: (base + 8).assumingMemoryBound(to: UInt8.self), count: headerLength)
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fail("header does not start with '{'")
        }
        let header: JSONValue
        do {
            header = try JSONValue.parse(bytes: headerBytes)
        } catch {
            throw fail("header is not valid JSON: \(error)")
        }
        guard let object = header.objectValue else { throw fail("header is not a JSON object") }

        let dataStart = 8 + headerLength
        let dataLength = file.count - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        entries.reserveCapacity(object.count)
        for (name, value) in object {
            if name == "__metadata__" {
                for (k, v) in value.objectValue ?? JSONObject() { if let s = v.stringValue { metadata[k] = s } }
                continue
            }
            let entry = try parseEntry(name: name, value: value, dataLength: dataLength, fail: fail)
            entries[name] = entry
        }
        // No two tensors may share bytes.
        let ordered = entries.values.filter { $0.end > $0.begin }.sorted { $0.begin < $1.begin }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.begin < a.end {
            throw fail("data_offsets [\(b.begin), \(b.end)] overlap tensor '\(a.info.name)' at [\(a.begin), \(a.end)]",
                       tensor: b.info.name)
        }
        return (entries, metadata, dataStart)
    }

    private static func parseEntry(
        name: String, value: JSONValue, dataLength: Int, fail: (String, String?) -> ModelError
    ) throws -> Entry {
        guard value.objectValue != nil else { throw fail("entry is not an object", name) }
        guard let dtypeName = value["dtype"]?.stringValue else { throw fail("missing string 'dtype'", name) }
        guard let dtype = TensorDType(safetensorsName: dtypeName) else {
            throw fail("unknown dtype '\(dtypeName)'", name)
        }
        guard let shapeValues = value["shape"]?.arrayValue else { throw fail("missing array 'shape'", name) }
        var shape: [Int] = []
        var elements = 1
        for dim in shapeValues {
            guard case .int(let d) = dim, d >= 0 else { throw fail("shape \(shapeValues) has a non-integer or negative dimension", name) }
            shape.append(d)
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("shape \(shape) overflows", name) }
            elements = product
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              case .int(let begin) = offsets[0], case .int(let end) = offsets[1] else {
            throw fail("'data_offsets' must be two integers [begin, end]", name)
        }
        guard begin >= 0, begin <= end else { throw fail("data_offsets [\(begin), \(end)] are not ordered", name) }
        guard end <= dataLength else {
            throw fail("data_offsets [\(begin), \(end)] run past the end of the data section (\(dataLength) bytes)", name)
        }
        guard let expected = dtype.byteCount(elements: elements) else { throw fail("shape \(shape) overflows", name) }
        guard end - begin == expected else {
            throw fail("holds \(end - begin) bytes, but shape \(shape) of \(dtype) needs \(expected)", name)
        }
        return Entry(info: TensorInfo(name: name, dtype: dtype, shape: shape), begin: begin, end: end)
    }
}
