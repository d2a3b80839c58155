import CCUDA

/// A kernel of a loaded module; keeps its module alive.
public struct CUDAFunction: @unchecked Sendable {
    // @unchecked: the handle is immutable and valid while `module` lives.
    /// The module holding the kernel.
    public let module: CUDAModule
    let handle: CUfunction
    /// The kernel's name.
    public let name: String
    /// Launch with programmatic stream serialization (PDL): the kernel may be scheduled while its stream
    /// predecessor finishes; it must wait on the grid dependency (`griddepcontrol.wait`) before reading what
    /// the predecessor wrote, as every kernel of the catalog does.
    public let programmatic: Bool

    init(module: CUDAModule, handle: CUfunction, name: String, programmatic: Bool = false) {
        self.module = module
        self.handle = handle
        self.name = name
        self.programmatic = programmatic
    }

    /// This kernel, launched with or without programmatic dependent launch.
    public func programmatic(_ on: Bool) -> CUDAFunction {
        CUDAFunction(module: module, handle: handle, name: name, programmatic: on)
    }

    /// Allows more than 48 KiB of dynamic shared memory.
    public func setMaxDynamicSharedMemory(_ bytes: Int) throws {
        let c = module.context
        try c.bind()
        try c.driver.check(
            c.driver.api.pointee.cuFuncSetAttribute(handle, Int32(CCUDA_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES), Int32(bytes)),
            "cuFuncSetAttribute(\(name))")
    }

    /// Launches the kernel with its single parameter struct `params` (passed by value, as the kernels take
    /// `const __grid_constant__ P p`).
    public func launch<P>(grid: (Int, Int, Int), block: (Int, Int, Int), sharedBytes: Int = 0, stream: CUDAStream,
                          params: P) throws
    {
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0, block.0 > 0, block.1 > 0, block.2 > 0 else {
            throw CUDAError.invalidArgument("\(name): empty launch grid \(grid) block \(block)")
        }
        let c = module.context
        try c.bind()
        var p = params
        try withUnsafeMutablePointer(to: &p) { pp in
            var args: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(pp)]
            try args.withUnsafeMutableBufferPointer { argv in
                if programmatic, let launchEx = c.driver.api.pointee.cuLaunchKernelEx {
                    var attribute = CCUDALaunchAttribute()
                    attribute.id = Int32(CCUDA_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)
                    attribute.value.programmaticStreamSerializationAllowed = 1
                    try withUnsafeMutablePointer(to: &attribute) { attr in
                        var config = CCUDALaunchConfig(
                            gridDimX: UInt32(grid.0), gridDimY: UInt32(grid.1), gridDimZ: UInt32(grid.2),
                            blockDimX: UInt32(block.0), blockDimY: UInt32(block.1), blockDimZ: UInt32(block.2),
                            sharedMemBytes: UInt32(sharedBytes), hStream: stream.handle, attrs: attr, numAttrs: 1)
                        try c.driver.check(launchEx(&config, handle, argv.baseAddress, nil), "cuLaunchKernelEx(\(name))")
                    }
                    return
                }
                try c.driver.check(
                    c.driver.api.pointee.cuLaunchKernel(
                        handle, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block.0), UInt32(block.1),
                        UInt32(block.2), UInt32(sharedBytes), stream.handle, argv.baseAddress, nil),
                    "cuLaunchKernel(\(name))")
            }
        }
    }
}
