import CCUDA
import CKernelParams
import CUDA
import Models

/// The per-request settings of `sgl_sample` and `sgl_logit_edits` (seeds and steps as 64-bit words first, then
/// the 32-bit fields, then `capacity + 1` row starts into the edit list), one pinned host block and one device
/// block of the same layout, sent with one copy; the edits themselves in a second pair of blocks that grows.
final class CUDASamplingInputs {
    enum Field: Int, CaseIterable {
        case seeds, steps, temperature, topK, topP, minP, editTemperature, editStarts
    }

    let capacity: Int
    let host: CUDAHostBuffer
    let device: CUDADeviceBuffer
    private let context: CUDAContext
    private var editCapacity = 0
    private var editHost: CUDAHostBuffer?
    private var editDevice: CUDADeviceBuffer?

    init(context: CUDAContext, capacity: Int) throws {
        self.context = context
        self.capacity = capacity
        host = try CUDAHostBuffer(context: context, byteCount: Self.bytes(capacity))
        device = try CUDADeviceBuffer(context: context, byteCount: Self.bytes(capacity))
    }

    static func bytes(_ capacity: Int) -> Int { capacity * (2 * 8 + 6 * 4) + 4 }

    /// Byte offset of `field` in either block.
    func offset(_ field: Field) -> Int {
        field.rawValue <= Field.steps.rawValue ? field.rawValue * capacity * 8 : 2 * capacity * 8 + (field.rawValue - 2) * capacity * 4
    }

    /// The device address of `field`.
    func address(_ field: Field) -> CUdeviceptr { device.address + CUdeviceptr(offset(field)) }

    /// The device address of the staged edits (valid after a `stage` that had some).
    var editsAddress: CUdeviceptr { editDevice?.address ?? 0 }

    /// Writes `settings` (at most `capacity`) into the pinned blocks and queues their copies to the device;
    /// returns the number of logit edits staged.
    func stage(_ settings: [DeviceSampling], on stream: CUDAStream) throws -> Int {
        let n = min(settings.count, capacity)
        let total = settings.prefix(n).reduce(0) { $0 + $1.edits.count }
        if total > editCapacity {
            // Pinned memory is re-registered only when a step needs more than ever before (with headroom).
            let grown = max(total, 2 * editCapacity, 1024)
            editHost = nil
            editDevice = nil
            editHost = try CUDAHostBuffer(context: context, byteCount: grown * MemoryLayout<SGLLogitEdit>.stride)
            editDevice = try CUDADeviceBuffer(context: context, byteCount: grown * MemoryLayout<SGLLogitEdit>.stride)
            editCapacity = grown
        }
        let base = host.pointer
        let seeds = (base + offset(.seeds)).assumingMemoryBound(to: UInt64.self)
        let steps = (base + offset(.steps)).assumingMemoryBound(to: UInt64.self)
        let temperature = (base + offset(.temperature)).assumingMemoryBound(to: Float.self)
        let topK = (base + offset(.topK)).assumingMemoryBound(to: Int32.self)
        let topP = (base + offset(.topP)).assumingMemoryBound(to: Float.self)
        let minP = (base + offset(.minP)).assumingMemoryBound(to: Float.self)
        let editTemperature = (base + offset(.editTemperature)).assumingMemoryBound(to: Float.self)
        let starts = (base + offset(.editStarts)).assumingMemoryBound(to: Int32.self)
        let edits = editHost.map { $0.pointer.assumingMemoryBound(to: SGLLogitEdit.self) }
        var next = 0
        for (i, s) in settings.prefix(n).enumerated() {
            seeds[i] = s.seed
            steps[i] = s.step
            temperature[i] = s.temperature
            topK[i] = s.topK
            topP[i] = s.topP
            minP[i] = s.minP
            editTemperature[i] = s.editTemperature > 0 ? s.editTemperature : 1
            starts[i] = Int32(next)
            if let edits {
                for e in s.edits {
                    edits[next] = SGLLogitEdit(token: e.token, masked: e.masked ? 1 : 0, bias: e.bias, penalty: e.penalty,
                                               repetition: e.repetition)
                    next += 1
                }
            }
        }
        starts[n] = Int32(next)
        try host.copy(toDevice: device.address, bytes: Self.bytes(capacity), on: stream)
        if next > 0, let editHost, let editDevice {
            try editHost.copy(toDevice: editDevice.address, bytes: next * MemoryLayout<SGLLogitEdit>.stride, on: stream)
        }
        return next
    }
}
