import CCUDA

/// The loaded driver API (`libcuda.so.1`), initialized once per process.
///
/// Every wrapper goes through `CUDADriver.shared()`: on a machine without the driver it throws
/// `CUDAError.libraryNotFound` naming `libcuda.so.1` and how to install it.
public final class CUDADriver: @unchecked Sendable {
    // @unchecked: the table is immutable after loading and the driver API is thread-safe.
    /// The resolved entry points.
    public let api: UnsafePointer<CCUDADriverAPI>
    /// Where the library was found.
    public let path: String
    /// The driver's CUDA version, e.g. 13000 for 13.0.
    public let version: Int

    private static let loaded = CUDALibrary.once { try CUDADriver(environment: processEnvironment()) }

    /// The process-wide driver, loaded and initialized (`cuInit`) on first use.
    public static func shared() throws -> CUDADriver { try loaded.get() }

    init(environment: [String: String]) throws {
        let (table, path) = try CUDALibrary.driver.load(environment: environment, ccuda_resolve_driver)
        api = table
        self.path = path
        var v: Int32 = 0
        let initResult = table.pointee.cuInit(0)
        _ = table.pointee.cuDriverGetVersion(&v)
        version = Int(v)
        try Self.check(table, initResult, "cuInit")
    }

    /// Throws `CUDAError.driver` for a non-success result, with the driver's name and text for it.
    @inline(__always)
    public func check(_ result: CUresult, _ function: @autoclosure () -> String) throws {
        if result != 0 { try Self.check(api, result, function()) }
    }

    static func check(_ api: UnsafePointer<CCUDADriverAPI>, _ result: CUresult, _ function: String) throws {
        guard result != 0 else { return }
        var name: UnsafePointer<CChar>?
        var text: UnsafePointer<CChar>?
        _ = api.pointee.cuGetErrorName(result, &name)
        _ = api.pointee.cuGetErrorString(result, &text)
        throw CUDAError.driver(
            function: function, code: result, name: name.map { String(cString: $0) } ?? "CUDA_ERROR_\(result)",
            message: text.map { String(cString: $0) } ?? "unknown error")
    }
}
