import CCUDA

/// The primary context of a device (shared with any other CUDA user in the process), retained for this
/// object's lifetime. Every wrapper makes it current on the calling thread before a driver call, since Swift
/// tasks may resume on any thread.
public final class CUDAContext: @unchecked Sendable {
    // @unchecked: immutable handles; the driver API is thread-safe.
    /// The device.
    public let device: CUDADevice
    /// The context handle.
    public let handle: CUcontext
    let driver: CUDADriver

    /// Retains device `ordinal`'s primary context.
    public init(device ordinal: Int = 0) throws {
        driver = try CUDADriver.shared()
        device = try CUDADevice(ordinal: ordinal)
        var ctx: CUcontext?
        try driver.check(driver.api.pointee.cuDevicePrimaryCtxRetain(&ctx, device.handle), "cuDevicePrimaryCtxRetain")
        guard let ctx else { throw CUDAError.driver(function: "cuDevicePrimaryCtxRetain", code: -1, name: "NULL", message: "no context") }
        handle = ctx
        try bind()
    }

    deinit {
        _ = driver.api.pointee.cuDevicePrimaryCtxRelease(device.handle)
    }

    /// Makes this context current on the calling thread.
    @inline(__always)
    public func bind() throws {
        try driver.check(driver.api.pointee.cuCtxSetCurrent(handle), "cuCtxSetCurrent")
    }

    /// Waits for all work of the context.
    public func synchronize() throws {
        try bind()
        try driver.check(driver.api.pointee.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// Lets kernels of this context read and write `peer`'s device memory (NVLink or PCIe peer access); false
    /// when the driver or the topology does not allow it.
    public func enablePeerAccess(to peer: CUDAContext) throws -> Bool {
        let api = driver.api.pointee
        guard let canAccess = api.cuDeviceCanAccessPeer, let enable = api.cuCtxEnablePeerAccess else { return false }
        var can: Int32 = 0
        try driver.check(canAccess(&can, device.handle, peer.device.handle), "cuDeviceCanAccessPeer")
        guard can != 0 else { return false }
        try bind()
        let result = enable(peer.handle, 0)
        if result != Int32(CCUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED) { try driver.check(result, "cuCtxEnablePeerAccess") }
        return true
    }

    /// Free and total device memory in bytes.
    public func memoryInfo() throws -> (free: Int, total: Int) {
        try bind()
        var free = 0, total = 0
        try driver.check(driver.api.pointee.cuMemGetInfo(&free, &total), "cuMemGetInfo")
        return (free, total)
    }
}
