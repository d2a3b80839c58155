import Foundation
import GGUF

/// Writes GGUF bytes for tests: valid files to round-trip, and the raw pieces to build malformed ones.
struct GGUFTestWriter {
    struct Tensor {
        var name: String
        var dimensions: [UInt64]
        var typeID: UInt32
        var data: [UInt8]
        /// Overrides the computed (aligned) data offset.
        var offset: UInt64?
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var metadata: [(String, GGUFValue)] = []
    var tensors: [Tensor] = []
    var alignment = 32

    /// The whole file.
    func bytes() -> [UInt8] {
        var out = magic
        Self.append(version, to: &out)
        Self.append(UInt64(tensors.count), to: &out)
        Self.append(UInt64(metadata.count), to: &out)
        for (key, value) in metadata {
            Self.appendString(key, to: &out)
            Self.append(value.type.rawValue, to: &out)
            Self.appendPayload(value, to: &out)
        }
        var offsets: [UInt64] = []
        var next = 0
        for tensor in tensors {
            offsets.append(tensor.offset ?? UInt64(next))
            next = (next + tensor.data.count + alignment - 1) / alignment * alignment
        }
        for (tensor, offset) in zip(tensors, offsets) {
            Self.appendString(tensor.name, to: &out)
            Self.append(UInt32(tensor.dimensions.count), to: &out)
            for d in tensor.dimensions { Self.append(d, to: &out) }
            Self.append(tensor.typeID, to: &out)
            Self.append(offset, to: &out)
        }
        guard !tensors.isEmpty else { return out }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        for tensor in tensors {
            out.append(contentsOf: tensor.data)
            while (out.count - dataStart) % alignment != 0 { out.append(0) }
        }
        return out
    }

    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        append(UInt64(s.utf8.count), to: &out)
        out.append(contentsOf: s.utf8)
    }

    static func appendPayload(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): appendString(s, to: &out)
        case .array(let a): appendArray(a, to: &out)
        }
    }

    static func appendArray(_ array: GGUFArray, to out: inout [UInt8]) {
        append(array.elementType.rawValue, to: &out)
        append(UInt64(array.count), to: &out)
        switch array {
        case .uint8(let a): a.forEach { append($0, to: &out) }
        case .int8(let a): a.forEach { append($0, to: &out) }
        case .uint16(let a): a.forEach { append($0, to: &out) }
        case .int16(let a): a.forEach { append($0, to: &out) }
        case .uint32(let a): a.forEach { append($0, to: &out) }
        case .int32(let a): a.forEach { append($0, to: &out) }
        case .uint64(let a): a.forEach { append($0, to: &out) }
        case .int64(let a): a.forEach { append($0, to: &out) }
        case .float32(let a): a.forEach { append($0.bitPattern, to: &out) }
        case .float64(let a): a.forEach { append($0.bitPattern, to: &out) }
        case .bool(let a): a.forEach { out.append($0 ? 1 : 0) }
        case .string(let a): a.forEach { appendString($0, to: &out) }
        case .array(let a): a.forEach { appendArray($0, to: &out) }
        }
    }

    /// A small valid file with every kind of metadata value and three tensors (F32, Q8_0, Q4_K).
    static func sample() -> GGUFTestWriter {
        var w = GGUFTestWriter()
        w.metadata = [
            ("general.architecture", .string("llama")),
            ("general.name", .string("tiny \u{1F600} test")),
            ("llama.block_count", .uint32(2)),
            ("u8", .uint8(250)), ("i8", .int8(-5)), ("u16", .uint16(65000)), ("i16", .int16(-300)),
            ("i32", .int32(-70000)), ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))),
            ("f32", .float32(1e-5)), ("f64", .float64(100000.5)), ("flag", .bool(true)),
            ("tokens", .array(.string(["<s>", "a", "\u{2581}b", ""]))),
            ("scores", .array(.float32([0, -1.5, -2.25, 3]))),
            ("types", .array(.int32([3, 1, 1, 6]))),
            ("nested", .array(.array([.uint8([1, 2]), .string(["x"]), .array([.bool([true, false])])]))),
            ("empty", .array(.uint64([]))),
        ]
        let f32 = (0 ..< 8).flatMap { i -> [UInt8] in
            withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { Array($0) }
        }
        w.tensors = [
            Tensor(name: "norm.weight", dimensions: [8], typeID: GGMLType.f32.rawValue, data: f32),
            Tensor(name: "embd.weight", dimensions: [32, 3], typeID: GGMLType.q8_0.rawValue,
                   data: (0 ..< 3 * 34).map { UInt8($0 % 251) }),
            Tensor(name: "ffn.weight", dimensions: [256, 2], typeID: GGMLType.q4_K.rawValue,
                   data: [UInt8](repeating: 7, count: 2 * 144)),
        ]
        return w
    }
}
