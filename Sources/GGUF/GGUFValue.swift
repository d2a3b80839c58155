/// The type ids of GGUF metadata values (`enum gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type takes in the file (used to reject impossible counts early).
    var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }
}

/// One metadata value of a GGUF file.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)

    /// The value's GGUF type.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// The string, or nil for other types.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Any integer type as `Int`, or nil for other types and for a `uint64` above `Int.max`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// A float or integer value as `Double`, or nil for other types.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    /// The boolean, or nil for other types.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The array, or nil for other types.
    public var arrayValue: GGUFArray? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// An array of strings, or nil when this is not one.
    public var stringArray: [String]? { arrayValue?.stringValues }

    /// An array of any integer type as `[Int]`, or nil when this is not one.
    public var intArray: [Int]? { arrayValue?.intValues }

    /// An array of any float or integer type as `[Double]`, or nil when this is not one.
    public var doubleArray: [Double]? { arrayValue?.doubleValues }
}

/// A GGUF metadata array. Elements share one type; an array of arrays may hold arrays of different types.
/// Stored as typed Swift arrays so that a 49k-entry vocabulary or score table costs one allocation.
public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8])
    case int8([Int8])
    case uint16([UInt16])
    case int16([Int16])
    case uint32([UInt32])
    case int32([Int32])
    case uint64([UInt64])
    case int64([Int64])
    case float32([Float])
    case float64([Double])
    case bool([Bool])
    case string([String])
    case array([GGUFArray])

    /// The type of the elements.
    public var elementType: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// The number of elements.
    public var count: Int {
        switch self {
        case .uint8(let a): return a.count
        case .int8(let a): return a.count
        case .uint16(let a): return a.count
        case .int16(let a): return a.count
        case .uint32(let a): return a.count
        case .int32(let a): return a.count
        case .uint64(let a): return a.count
        case .int64(let a): return a.count
        case .float32(let a): return a.count
        case .float64(let a): return a.count
        case .bool(let a): return a.count
        case .string(let a): return a.count
        case .array(let a): return a.count
        }
    }

    /// The elements when they are strings.
    public var stringValues: [String]? {
        if case .string(let a) = self { return a }
        return nil
    }

    /// The elements as `Int` when they are integers (nil if a `uint64` exceeds `Int.max`).
    public var intValues: [Int]? {
        switch self {
        case .uint8(let a): return a.map { Int($0) }
        case .int8(let a): return a.map { Int($0) }
        case .uint16(let a): return a.map { Int($0) }
        case .int16(let a): return a.map { Int($0) }
        case .uint32(let a): return a.map { Int($0) }
        case .int32(let a): return a.map { Int($0) }
        case .int64(let a): return a.map { Int($0) }
        case .uint64(let a):
            var out: [Int] = []
            out.reserveCapacity(a.count)
            for v in a {
                guard let i = Int(exactly: v) else { return nil }
                out.append(i)
            }
            return out
        default: return nil
        }
    }

    /// The elements as `Double` when they are floats or integers.
    public var doubleValues: [Double]? {
        switch self {
        case .float32(let a): return a.map { Double($0) }
        case .float64(let a): return a
        default: return intValues?.map { Double($0) }
        }
    }

    /// The elements when they are `float32`.
    public var floatValues: [Float]? {
        if case .float32(let a) = self { return a }
        return nil
    }

    /// The elements when they are booleans.
    public var boolValues: [Bool]? {
        if case .bool(let a) = self { return a }
        return nil
    }

    /// The elements when they are arrays.
    public var arrayValues: [GGUFArray]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
