import CCUDA

/// A kernel of a loaded module; keeps its module alive.
public struct CUDAFunction: @unchecked Sendable {
    // @unchecked: the handle is immutable and valid while `module` lives.
    /// The module holding the kernel.
    public let module: CUDAModule
    let handle: CUfunction
    /// The kernel's name.
    public let name: String

    init(module: CUDAModule, handle: CUfunction, name: String) {
        self.module = module
        self.handle = handle
        self.name = name
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
                try c.driver.check(
                    c.driver.api.pointee.cuLaunchKernel(
                        handle, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block.0), UInt32(block.1),
                        UInt32(block.2), UInt32(sharedBytes), stream.handle, argv.baseAddress, nil),
                    "cuLaunchKernel(\(name))")
            }
        }
    }
}
