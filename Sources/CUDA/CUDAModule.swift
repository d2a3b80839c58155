import CCUDA

/// A loaded module (cubin or PTX image), unloaded with the object.
public final class CUDAModule: @unchecked Sendable {
    // @unchecked: immutable handle.
    /// The owning context.
    public let context: CUDAContext
    let handle: CUmodule

    /// Loads a cubin or NUL-terminated PTX image.
    public init(context: CUDAContext, image: [UInt8]) throws {
        self.context = context
        try context.bind()
        var m: CUmodule?
        var bytes = image
        if bytes.first != 0x7F { bytes.append(0) }  // PTX text must be NUL-terminated; ELF cubins start with 0x7F
        try bytes.withUnsafeBytes { raw in
            try context.driver.check(context.driver.api.pointee.cuModuleLoadData(&m, raw.baseAddress), "cuModuleLoadData")
        }
        guard let m else { throw CUDAError.driver(function: "cuModuleLoadData", code: -1, name: "NULL", message: "no module") }
        handle = m
    }

    deinit {
        _ = try? context.bind()
        _ = context.driver.api.pointee.cuModuleUnload(handle)
    }

    /// The `extern "C"` kernel `name`.
    public func function(_ name: String) throws -> CUDAFunction {
        try context.bind()
        var f: CUfunction?
        try context.driver.check(context.driver.api.pointee.cuModuleGetFunction(&f, handle, name), "cuModuleGetFunction(\(name))")
        guard let f else { throw CUDAError.driver(function: "cuModuleGetFunction", code: -1, name: "NULL", message: name) }
        return CUDAFunction(module: self, handle: f, name: name)
    }
}
