import CCUDA

/// A CUDA device and its properties.
public struct CUDADevice: Sendable, Hashable {
    /// Device ordinal.
    public let ordinal: Int
    /// Driver handle.
    public let handle: CUdevice
    /// Marketing name, e.g. "NVIDIA H200".
    public let name: String
    /// Compute capability (major, minor), e.g. (9, 0).
    public let computeCapability: (major: Int, minor: Int)
    /// Streaming multiprocessors.
    public let multiprocessors: Int
    /// Opt-in shared memory per block in bytes.
    public let maxSharedMemoryPerBlock: Int
    /// L2 cache bytes.
    public let l2CacheBytes: Int
    /// Total device memory in bytes.
    public let totalMemory: Int

    /// Number of visible devices (throws when the driver cannot be loaded).
    public static func count() throws -> Int {
        let d = try CUDADriver.shared()
        var n: Int32 = 0
        try d.check(d.api.pointee.cuDeviceGetCount(&n), "cuDeviceGetCount")
        return Int(n)
    }

    /// Device `ordinal` with its properties.
    public init(ordinal: Int = 0) throws {
        let d = try CUDADriver.shared()
        let count = try Self.count()
        guard count > 0 else { throw CUDAError.noDevice }
        guard ordinal >= 0, ordinal < count else {
            throw CUDAError.invalidArgument("device \(ordinal) does not exist (\(count) visible)")
        }
        var h: CUdevice = 0
        try d.check(d.api.pointee.cuDeviceGet(&h, Int32(ordinal)), "cuDeviceGet")
        var buffer = [CChar](repeating: 0, count: 256)
        try d.check(d.api.pointee.cuDeviceGetName(&buffer, Int32(buffer.count - 1), h), "cuDeviceGetName")
        func attribute(_ a: Int32) throws -> Int {
            var v: Int32 = 0
            try d.check(d.api.pointee.cuDeviceGetAttribute(&v, a, h), "cuDeviceGetAttribute(\(a))")
            return Int(v)
        }
        var bytes = 0
        try d.check(d.api.pointee.cuDeviceTotalMem(&bytes, h), "cuDeviceTotalMem")
        self.ordinal = ordinal
        handle = h
        name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        computeCapability = (
            try attribute(Int32(CCUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)),
            try attribute(Int32(CCUDA_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR))
        )
        multiprocessors = try attribute(Int32(CCUDA_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT))
        maxSharedMemoryPerBlock = try attribute(Int32(CCUDA_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN))
        l2CacheBytes = try attribute(Int32(CCUDA_DEVICE_ATTRIBUTE_L2_CACHE_SIZE))
        totalMemory = bytes
    }

    /// The NVRTC architecture name, e.g. "sm_90".
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    public static func == (a: CUDADevice, b: CUDADevice) -> Bool { a.ordinal == b.ordinal && a.handle == b.handle }
    public func hash(into h: inout Hasher) {
        h.combine(ordinal)
        h.combine(handle)
    }
}
