import CCUDA

/// Page-locked host memory (`cuMemAllocHost`): the staging area of per-step inputs and outputs, so copies
/// run asynchronously on a stream (a pageable copy would block the host).
public final class CUDAHostBuffer: @unchecked Sendable {
    // @unchecked: the pointer is immutable; the owner orders host writes before the copies that read them.
    /// The owning context.
    public let context: CUDAContext
    /// The memory.
    public let pointer: UnsafeMutableRawPointer
    /// Size in bytes.
    public let byteCount: Int

    /// Allocates `byteCount` bytes (at least 1) of pinned memory.
    public init(context: CUDAContext, byteCount: Int) throws {
        guard byteCount >= 0 else { throw CUDAError.invalidArgument("negative allocation size \(byteCount)") }
        self.context = context
        self.byteCount = max(byteCount, 1)
        try context.bind()
        var p: UnsafeMutableRawPointer?
        try context.driver.check(context.driver.api.pointee.cuMemAllocHost(&p, self.byteCount),
                                 "cuMemAllocHost(\(byteCount) bytes)")
        guard let p else { throw CUDAError.invalidArgument("cuMemAllocHost returned no memory") }
        pointer = p
    }

    deinit {
        _ = try? context.bind()
        _ = context.driver.api.pointee.cuMemFreeHost(pointer)
    }

    /// Queues a copy of `bytes` bytes at `offset` of this buffer to `destination` (device address) on `stream`.
    public func copy(toDevice destination: CUdeviceptr, offset: Int = 0, bytes: Int, on stream: CUDAStream) throws {
        guard offset >= 0, bytes >= 0, offset + bytes <= byteCount else {
            throw CUDAError.invalidArgument("host copy of \(bytes) bytes at \(offset) outside \(byteCount)")
        }
        guard bytes > 0 else { return }
        try context.driver.check(
            context.driver.api.pointee.cuMemcpyHtoDAsync(destination, pointer + offset, bytes, stream.handle),
            "cuMemcpyHtoDAsync")
    }

    /// Queues a copy of `bytes` bytes from `source` (device address) into this buffer at `offset` on `stream`.
    public func copy(fromDevice source: CUdeviceptr, offset: Int = 0, bytes: Int, on stream: CUDAStream) throws {
        guard offset >= 0, bytes >= 0, offset + bytes <= byteCount else {
            throw CUDAError.invalidArgument("host copy of \(bytes) bytes at \(offset) outside \(byteCount)")
        }
        guard bytes > 0 else { return }
        try context.driver.check(
            context.driver.api.pointee.cuMemcpyDtoHAsync(pointer + offset, source, bytes, stream.handle),
            "cuMemcpyDtoHAsync")
    }
}
