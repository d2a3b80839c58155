import CCUDA

/// Device memory from `cuMemAlloc`, freed with the object.
public final class CUDADeviceBuffer: @unchecked Sendable {
    // @unchecked: the address is immutable; ordering of reads and writes is the stream's job.
    /// The owning context.
    public let context: CUDAContext
    /// Device address (256-byte aligned).
    public let address: CUdeviceptr
    /// Size in bytes.
    public let byteCount: Int

    /// Allocates `byteCount` bytes (at least 1) of uninitialized device memory.
    public init(context: CUDAContext, byteCount: Int) throws {
        guard byteCount >= 0 else { throw CUDAError.invalidArgument("negative allocation size \(byteCount)") }
        self.context = context
        self.byteCount = byteCount
        try context.bind()
        var p: CUdeviceptr = 0
        try context.driver.check(context.driver.api.pointee.cuMemAlloc(&p, max(byteCount, 1)), "cuMemAlloc(\(byteCount) bytes)")
        address = p
    }

    /// Allocates a buffer holding a copy of `values` (waits for the copy: setup paths only).
    public convenience init<T: BitwiseCopyable>(context: CUDAContext, copying values: [T]) throws {
        try self.init(context: context, byteCount: values.count * MemoryLayout<T>.stride)
        try values.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            try context.driver.check(context.driver.api.pointee.cuMemcpyHtoD(address, base, raw.count), "cuMemcpyHtoD")
        }
        // A pageable copy may still be in flight when cuMemcpyHtoD returns, and non-blocking streams do not
        // wait for it.
        try context.driver.check(context.driver.api.pointee.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    deinit {
        _ = try? context.bind()
        _ = context.driver.api.pointee.cuMemFree(address)
    }

    /// Copies `values` into the buffer at `byteOffset`, ordered on `stream`; returns when the copy is done.
    public func upload<T: BitwiseCopyable>(_ values: [T], byteOffset: Int = 0, on stream: CUDAStream) throws {
        let bytes = values.count * MemoryLayout<T>.stride
        try checkRange(byteOffset, bytes)
        try context.bind()
        try values.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, bytes > 0 else { return }
            try context.driver.check(
                context.driver.api.pointee.cuMemcpyHtoDAsync(address + CUdeviceptr(byteOffset), base, bytes, stream.handle),
                "cuMemcpyHtoDAsync")
            try stream.synchronize()
        }
    }

    /// Copies `count` values of type `T` out of the buffer after the work queued on `stream`.
    public func download<T: BitwiseCopyable>(_ type: T.Type, count: Int, byteOffset: Int = 0, on stream: CUDAStream)
        throws -> [T]
    {
        let bytes = count * MemoryLayout<T>.stride
        try checkRange(byteOffset, bytes)
        try context.bind()
        var result = [T](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        try result.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress, bytes > 0 else { return }
            try context.driver.check(
                context.driver.api.pointee.cuMemcpyDtoHAsync(base, address + CUdeviceptr(byteOffset), bytes, stream.handle),
                "cuMemcpyDtoHAsync")
            try stream.synchronize()
        }
        return result
    }

    /// Sets every 32-bit word of the buffer to `pattern` on `stream` (poisoning: 0x7FC00000 is a float NaN,
    /// 0x7FC07FC0 two bf16 NaNs).
    public func fill(word pattern: UInt32, on stream: CUDAStream) throws {
        try context.bind()
        try context.driver.check(
            context.driver.api.pointee.cuMemsetD32Async(address, pattern, byteCount / 4, stream.handle), "cuMemsetD32Async")
    }

    /// Asynchronous device-to-device copy of `bytes` bytes from `source`.
    public func copy(from source: CUDADeviceBuffer, bytes: Int, on stream: CUDAStream) throws {
        try checkRange(0, bytes)
        guard bytes <= source.byteCount else {
            throw CUDAError.invalidArgument("copy of \(bytes) bytes from a buffer of \(source.byteCount)")
        }
        try context.bind()
        try context.driver.check(
            context.driver.api.pointee.cuMemcpyDtoDAsync(address, source.address, bytes, stream.handle), "cuMemcpyDtoDAsync")
    }

    /// Asynchronous device-to-device copy of `bytes` bytes from `source` (any device address of this context) to
    /// the start of this buffer.
    public func copy(fromAddress source: CUdeviceptr, bytes: Int, on stream: CUDAStream) throws {
        try checkRange(0, bytes)
        try context.bind()
        try context.driver.check(
            context.driver.api.pointee.cuMemcpyDtoDAsync(address, source, bytes, stream.handle), "cuMemcpyDtoDAsync")
    }

    private func checkRange(_ offset: Int, _ bytes: Int) throws {
        guard offset >= 0, bytes >= 0, offset + bytes <= byteCount else {
            throw CUDAError.invalidArgument("access of \(bytes) bytes at offset \(offset) outside a buffer of \(byteCount) bytes")
        }
    }
}
