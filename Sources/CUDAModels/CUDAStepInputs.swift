import CCUDA
import CUDA

/// The per-step metadata of a forward: `Int32` arrays packed in one pinned host block and one device block
/// of the same layout, so a step's inputs go over in a single asynchronous copy.
final class CUDAStepInputs {
    /// The arrays, each `capacity` values.
    enum Field: Int, CaseIterable {
        case inputIds, positions, outLoc, tokenRows, reqPoolIndices, seqLens, prefixLens, extendLens, extendStarts,
             logitRows, carried, outIds
    }

    let capacity: Int
    let host: CUDAHostBuffer
    let device: CUDADeviceBuffer

    init(context: CUDAContext, capacity: Int) throws {
        self.capacity = capacity
        let bytes = Field.allCases.count * capacity * 4
        host = try CUDAHostBuffer(context: context, byteCount: bytes)
        device = try CUDADeviceBuffer(context: context, byteCount: bytes)
    }

    /// Byte offset of `field` in either block.
    func offset(_ field: Field) -> Int { field.rawValue * capacity * 4 }

    /// The device address of `field`.
    func address(_ field: Field) -> CUdeviceptr { device.address + CUdeviceptr(offset(field)) }

    /// The host values of `field`.
    func hostValues(_ field: Field) -> UnsafeMutablePointer<Int32> {
        (host.pointer + offset(field)).assumingMemoryBound(to: Int32.self)
    }

    /// Queues the copy of the first `count` host values of `field` to the device.
    func copyToDevice(_ field: Field, count: Int, on stream: CUDAStream) throws {
        try host.copy(toDevice: address(field), offset: offset(field), bytes: count * 4, on: stream)
    }

    /// Copies the first `count` device values of `field` back, waits, and returns them.
    func download(_ field: Field, count: Int, on stream: CUDAStream) throws -> [Int32] {
        try host.copy(fromDevice: address(field), offset: offset(field), bytes: count * 4, on: stream)
        try stream.synchronize()
        return Array(UnsafeBufferPointer(start: hostValues(field), count: count))
    }

    /// Writes `values` into `field` (at most `capacity`), padding the rest of `count` with `pad`.
    func set(_ field: Field, _ values: some Collection<Int32>, count: Int? = nil, pad: Int32 = 0) {
        let p = hostValues(field)
        var i = 0
        for v in values {
            p[i] = v
            i += 1
        }
        let n = count ?? i
        while i < n {
            p[i] = pad
            i += 1
        }
    }

    /// Queues the copy of the input fields (everything before `outIds`) to the device.
    func upload(on stream: CUDAStream) throws {
        try host.copy(toDevice: device.address, bytes: offset(.outIds), on: stream)
    }
}
