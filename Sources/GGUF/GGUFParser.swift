/// A bounds-checked little-endian reader over the bytes of a GGUF file. Every read names what it reads so
/// that a truncated or corrupt file produces an error that says where it went wrong.
struct GGUFParser {
    /// Arrays of arrays deeper than this are rejected (real files nest at most once).
    static let maximumNesting = 8

    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes left after the current offset.
    var remaining: Int { bytes.count - offset }

    private func require(_ needed: Int, _ what: @autoclosure () -> String) throws {
        guard needed <= remaining else {
            throw GGUFError.truncated(what: what(), offset: offset, needed: needed, fileSize: bytes.count)
        }
    }

    /// Reads a fixed-width little-endian integer.
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size, what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// Reads the 4 magic bytes.
    mutating func readMagic() throws -> [UInt8] {
        try require(4, "the magic number")
        let magic = Array(bytes[offset ..< offset + 4])
        offset += 4
        return magic
    }

    /// Reads a count (u64) and checks that `count` items of at least `minimumSize` bytes each could fit in the
    /// rest of the file, so that a corrupt count can never cause a huge allocation or a long loop.
    mutating func readCount(_ what: @autoclosure () -> String, minimumSize: Int) throws -> Int {
        let start = offset
        let raw = try read(UInt64.self, what())
        let limit = UInt64(remaining / max(minimumSize, 1))
        guard raw <= limit, let count = Int(exactly: raw) else {
            throw GGUFError.implausibleCount(what: what(), count: raw, offset: start)
        }
        return count
    }

    /// Reads a GGUF string: a u64 byte length followed by UTF-8 bytes (no terminator).
    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let start = offset
        let length = try readCount("the length of \(what())", minimumSize: 1)
        let body = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + length])
        guard let string = String(validating: body, as: UTF8.self) else {
            throw GGUFError.invalidUTF8(what: what(), offset: start)
        }
        offset += length
        return string
    }

    /// Reads a value type id.
    mutating func readValueType(key: String) throws -> GGUFValueType {
        let start = offset
        let id = try read(UInt32.self, "the value type of '\(key)'")
        guard let type = GGUFValueType(rawValue: id) else {
            throw GGUFError.unknownValueType(id: id, key: key, offset: start)
        }
        return type
    }

    /// Reads one metadata value of type `type`.
    mutating func readValue(_ type: GGUFValueType, key: String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, "the value of '\(key)'"))
        case .int8: return .int8(try read(Int8.self, "the value of '\(key)'"))
        case .uint16: return .uint16(try read(UInt16.self, "the value of '\(key)'"))
        case .int16: return .int16(try read(Int16.self, "the value of '\(key)'"))
        case .uint32: return .uint32(try read(UInt32.self, "the value of '\(key)'"))
        case .int32: return .int32(try read(Int32.self, "the value of '\(key)'"))
        case .uint64: return .uint64(try read(UInt64.self, "the value of '\(key)'"))
        case .int64: return .int64(try read(Int64.self, "the value of '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, "the value of '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, "the value of '\(key)'")))
        case .bool: return .bool(try read(UInt8.self, "the value of '\(key)'") != 0)
        case .string: return .string(try readString("the value of '\(key)'"))
        case .array: return .array(try readArray(key: key, depth: depth))
        }
    }

    /// Reads an array: element type (u32), count (u64), then the elements.
    mutating func readArray(key: String, depth: Int) throws -> GGUFArray {
        guard depth < Self.maximumNesting else {
            throw GGUFError.nestingTooDeep(key: key, offset: offset)
        }
        let elementType = try readValueType(key: key)
        let count = try readCount("the element count of '\(key)'", minimumSize: elementType.minimumEncodedSize)
        switch elementType {
        case .uint8: return .uint8(try readNumbers(UInt8.self, count: count, key: key))
        case .int8: return .int8(try readNumbers(Int8.self, count: count, key: key))
        case .uint16: return .uint16(try readNumbers(UInt16.self, count: count, key: key))
        case .int16: return .int16(try readNumbers(Int16.self, count: count, key: key))
        case .uint32: return .uint32(try readNumbers(UInt32.self, count: count, key: key))
        case .int32: return .int32(try readNumbers(Int32.self, count: count, key: key))
        case .uint64: return .uint64(try readNumbers(UInt64.self, count: count, key: key))
        case .int64: return .int64(try readNumbers(Int64.self, count: count, key: key))
        case .float32: return .float32(try readNumbers(UInt32.self, count: count, key: key).map(Float.init(bitPattern:)))
        case .float64: return .float64(try readNumbers(UInt64.self, count: count, key: key).map(Double.init(bitPattern:)))
        case .bool: return .bool(try readNumbers(UInt8.self, count: count, key: key).map { $0 != 0 })
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(count)
            for index in 0 ..< count {
                strings.append(try readString("element \(index) of '\(key)'"))
            }
            return .string(strings)
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(count)
            for _ in 0 ..< count {
                arrays.append(try readArray(key: key, depth: depth + 1))
            }
            return .array(arrays)
        }
    }

    /// Reads `count` little-endian numbers in one pass (the count was already checked against the file size).
    private mutating func readNumbers<T: FixedWidthInteger>(_: T.Type, count: Int, key: String) throws -> [T] {
        let size = MemoryLayout<T>.size
        try require(count * size, "the \(count) elements of '\(key)'")
        let start = offset
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0 ..< count {
                buffer[index] = T(littleEndian: bytes.loadUnaligned(fromByteOffset: start + index * size, as: T.self))
            }
            initialized = count
        }
        offset += count * size
        return values
    }
}
