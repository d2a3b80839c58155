/// A GGUF file (llama.cpp's model container): header, metadata and tensor directory, read from a
/// read-only memory mapping. Tensor data is not copied: `rawBytes(of:)` points into the mapping, which
/// lives as long as this object.
///
/// Every count, length, type id and offset is validated while parsing; a malformed file throws a
/// `GGUFError` that says what is wrong and where.
public final class GGUFFile: Sendable {
    /// The bytes 'G' 'G' 'U' 'F'.
    public static let magic: [UInt8] = Array("GGUF".utf8)
    /// The GGUF versions this reader handles.
    public static let supportedVersions: ClosedRange<UInt32> = 2 ... 3
    /// The data alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// ggml's `GGML_MAX_DIMS`.
    public static let maximumDimensions = 4

    /// The path the file was opened from (nil for in-memory bytes).
    public let path: String?
    /// The GGUF format version (2 or 3).
    public let version: UInt32
    /// Every metadata key/value pair of the file.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensor directory in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Offset of the data section from the start of the file.
    public let dataOffset: Int
    /// The file's size in bytes.
    public let fileSize: Int

    private let tensorIndex: [String: Int]
    private let storage: MappedBytes

    /// Opens (memory-maps) and parses the GGUF file at `path`.
    public convenience init(path: String) throws {
        try self.init(storage: MappedBytes(mapping: path), path: path)
    }

    /// Parses a GGUF file held in memory (the bytes are copied).
    public convenience init(bytes: [UInt8]) throws {
        try self.init(storage: MappedBytes(copying: bytes), path: nil)
    }

    private init(storage: MappedBytes, path: String?) throws {
        self.storage = storage
        self.path = path
        fileSize = storage.count
        var parser = GGUFParser(bytes: storage.bytes)

        let magic = try parser.readMagic()
        guard magic == Self.magic else { throw GGUFError.badMagic(found: magic) }
        let version = try parser.read(UInt32.self, "the version")
        guard Self.supportedVersions.contains(version) else { throw GGUFError.unsupportedVersion(version) }
        self.version = version

        // A tensor entry takes at least 8 (name length) + 4 (dims) + 4 (type) + 8 (offset) bytes,
        // a metadata entry at least 8 (key length) + 4 (type) + 1 (value).
        let tensorCount = try parser.readCount("the tensor count", minimumSize: 24)
        let metadataCount = try parser.readCount("the metadata count", minimumSize: 13)

        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(metadataCount)
        var keys: [String] = []
        keys.reserveCapacity(metadataCount)
        for index in 0 ..< metadataCount {
            let key = try parser.readString("metadata key \(index)")
            let type = try parser.readValueType(key: key)
            let value = try parser.readValue(type, key: key)
            guard metadata.updateValue(value, forKey: key) == nil else { throw GGUFError.duplicateKey(key) }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        let alignment = try Self.alignment(in: metadata)
        self.alignment = alignment

        var entries: [(name: String, dimensions: [Int], type: GGMLType, offset: Int)] = []
        entries.reserveCapacity(tensorCount)
        for index in 0 ..< tensorCount {
            let name = try parser.readString("the name of tensor \(index)")
            let dimensionCount = try parser.read(UInt32.self, "the dimension count of tensor '\(name)'")
            guard dimensionCount <= Self.maximumDimensions else {
                throw GGUFError.invalidTensor(
                    name: name, reason: "\(dimensionCount) dimensions (ggml allows at most \(Self.maximumDimensions))")
            }
            var dimensions: [Int] = []
            for axis in 0 ..< Int(dimensionCount) {
                let raw = try parser.read(UInt64.self, "dimension \(axis) of tensor '\(name)'")
                guard let size = Int(exactly: raw) else {
                    throw GGUFError.invalidTensor(name: name, reason: "dimension \(axis) is \(raw), too large")
                }
                dimensions.append(size)
            }
            let typeID = try parser.read(UInt32.self, "the type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: typeID) else {
                throw GGUFError.unknownTensorType(id: typeID, tensor: name)
            }
            let rawOffset = try parser.read(UInt64.self, "the data offset of tensor '\(name)'")
            guard let offset = Int(exactly: rawOffset) else {
                throw GGUFError.invalidTensor(name: name, reason: "data offset \(rawOffset) is too large")
            }
            entries.append((name, dimensions, type, offset))
        }

        // The data section starts at the first alignment boundary after the tensor directory.
        let dataOffset = (parser.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset

        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(entries.count)
        var index: [String: Int] = [:]
        index.reserveCapacity(entries.count)
        for entry in entries {
            let info = try Self.validatedTensor(
                entry, alignment: alignment, dataOffset: dataOffset, fileSize: storage.count)
            guard index.updateValue(infos.count, forKey: entry.name) == nil else {
                throw GGUFError.duplicateTensor(entry.name)
            }
            infos.append(info)
        }
        tensors = infos
        tensorIndex = index
    }

    /// `general.alignment`, which must be a non-zero power of two stored as uint32.
    private static func alignment(in metadata: [String: GGUFValue]) throws -> Int {
        let key = "general.alignment"
        guard let value = metadata[key] else { return defaultAlignment }
        guard case .uint32(let raw) = value else {
            throw GGUFError.invalidMetadata(key: key, reason: "expected uint32, found \(value.type)")
        }
        guard raw > 0, raw & (raw - 1) == 0 else {
            throw GGUFError.invalidMetadata(key: key, reason: "\(raw) is not a power of two")
        }
        return Int(raw)
    }

    private static func validatedTensor(
        _ entry: (name: String, dimensions: [Int], type: GGMLType, offset: Int),
        alignment: Int, dataOffset: Int, fileSize: Int
    ) throws -> GGUFTensorInfo {
        let name = entry.name
        let type = entry.type
        var elements = 1
        for size in entry.dimensions {
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw GGUFError.invalidTensor(name: name, reason: "dimensions \(entry.dimensions) overflow")
            }
            elements = product
        }
        let rowLength = entry.dimensions.first ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw GGUFError.invalidTensor(
                name: name,
                reason: "row length \(rowLength) is not a multiple of the \(type.name) block size \(type.blockSize)")
        }
        guard let byteCount = type.byteCount(elements: elements) else {
            throw GGUFError.invalidTensor(name: name, reason: "size of \(elements) \(type.name) elements overflows")
        }
        guard entry.offset % alignment == 0 else {
            throw GGUFError.invalidTensor(
                name: name, reason: "data offset \(entry.offset) is not a multiple of the alignment \(alignment)")
        }
        let (start, startOverflow) = dataOffset.addingReportingOverflow(entry.offset)
        let (end, endOverflow) = start.addingReportingOverflow(byteCount)
        guard !startOverflow, !endOverflow, end <= fileSize else {
            throw GGUFError.invalidTensor(
                name: name,
                reason: "data (\(byteCount) bytes at data offset \(entry.offset), file offset \(dataOffset) + \(entry.offset)) "
                    + "extends past the end of the file (\(fileSize) bytes)")
        }
        return GGUFTensorInfo(
            name: name, dimensions: entry.dimensions, type: type, offset: entry.offset, fileOffset: start,
            byteCount: byteCount)
    }

    /// The metadata value for `key`.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// `general.architecture`, e.g. "llama".
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    /// The value of an architecture-scoped key, e.g. `architectureValue("block_count")` reads
    /// `llama.block_count` in a llama file.
    public func architectureValue(_ suffix: String) -> GGUFValue? {
        guard let architecture else { return nil }
        return metadata["\(architecture).\(suffix)"]
    }

    /// The tensor named `name`, or nil.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The raw bytes of `tensor`'s data, pointing into the mapping. Valid as long as this `GGUFFile` is alive:
    /// keep a reference to the file while using the buffer (or use `withRawBytes(of:_:)`).
    public func rawBytes(of tensor: GGUFTensorInfo) throws -> UnsafeRawBufferPointer {
        guard let own = self.tensor(named: tensor.name), own == tensor else {
            throw GGUFError.tensorNotFound(tensor.name)
        }
        let start = own.fileOffset
        let end = start + own.byteCount
        guard start >= 0, end <= storage.count else {
            throw GGUFError.invalidTensor(name: own.name, reason: "byte range \(start)..<\(end) is outside the file")
        }
        return UnsafeRawBufferPointer(rebasing: storage.bytes[start ..< end])
    }

    /// The raw bytes of the tensor named `name`.
    public func rawBytes(named name: String) throws -> UnsafeRawBufferPointer {
        guard let info = tensor(named: name) else { throw GGUFError.tensorNotFound(name) }
        return try rawBytes(of: info)
    }

    /// Calls `body` with the raw bytes of `tensor`, keeping the file (and so the mapping) alive meanwhile.
    public func withRawBytes<R>(of tensor: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try withExtendedLifetime(self) { try body(rawBytes(of: tensor)) }
    }
}
