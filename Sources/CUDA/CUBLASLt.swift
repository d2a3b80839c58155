import CCUDA
import Synchronization

/// cuBLASLt (`libcublasLt.so.13` / `.12`): dense GEMMs with an algorithm chosen once per shape.
public final class CUBLASLt: @unchecked Sendable {
    // @unchecked: the handle and workspace are immutable; the algorithm cache is guarded by a lock.
    /// The resolved entry points.
    public let api: UnsafePointer<CCUDABlasLtAPI>
    /// Where the library was found.
    public let path: String
    /// The owning context.
    public let context: CUDAContext
    let handle: cublasLtHandle_t
    /// Scratch memory the chosen algorithms may use (32 MiB, as recommended for Hopper).
    public let workspace: CUDADeviceBuffer
    private let algorithms = Mutex<[GEMMShape: CCUDABlasLtAlgo]>([:])

    /// Element types of a GEMM's operands.
    public enum DataType: Int32, Sendable, Hashable {
        /// fp32.
        case float32 = 0
        /// bfloat16.
        case bfloat16 = 14
        /// fp16.
        case float16 = 2
    }

    /// The cache key of a chosen algorithm.
    struct GEMMShape: Hashable {
        var m: Int, n: Int, k: Int
        var input: DataType, output: DataType
    }

    /// Loads cuBLASLt and creates a handle and workspace on `context`.
    public init(context: CUDAContext, workspaceBytes: Int = 32 << 20) throws {
        let (table, path) = try CUDALibrary.cublasLt.load(environment: processEnvironment(), ccuda_resolve_blaslt)
        api = table
        self.path = path
        self.context = context
        try context.bind()
        var h: cublasLtHandle_t?
        try Self.check(table, table.pointee.cublasLtCreate(&h), "cublasLtCreate")
        guard let h else { throw CUDAError.blas(function: "cublasLtCreate", status: -1, message: "no handle") }
        handle = h
        workspace = try CUDADeviceBuffer(context: context, byteCount: workspaceBytes)
    }

    deinit {
        _ = try? context.bind()
        _ = api.pointee.cublasLtDestroy(handle)
    }

    /// cuBLASLt's version number (e.g. 130100).
    public var version: Int { api.pointee.cublasLtGetVersion() }

    /// Row-major `Y[m, n] = X[m, k] · W[n, k]ᵀ` with fp32 accumulation: `x` and `w` of `input` type, `y` of
    /// `output` type (HF's `[out, in]` weights, the "TN" form). The algorithm for the shape is chosen by the
    /// heuristic on first use and cached.
    public func matmul(x: CUdeviceptr, w: CUdeviceptr, y: CUdeviceptr, m: Int, n: Int, k: Int, input: DataType,
                       output: DataType, stream: CUDAStream) throws
    {
        guard m > 0, n > 0, k > 0 else { throw CUDAError.invalidArgument("GEMM shape \(m)×\(n)×\(k) is empty") }
        try context.bind()
        // Column-major view: D(n×m) = op(A)(n×k) · B(k×m) with A = W stored k×n (transposed), B = X stored k×m.
        var desc: cublasLtMatmulDesc_t?
        try check(api.pointee.cublasLtMatmulDescCreate(&desc, Int32(CCUBLAS_COMPUTE_32F), Int32(CCUDA_R_32F)),
                  "cublasLtMatmulDescCreate")
        defer { if let desc { _ = api.pointee.cublasLtMatmulDescDestroy(desc) } }
        var opT = Int32(CCUBLAS_OP_T), opN = Int32(CCUBLAS_OP_N)
        try check(api.pointee.cublasLtMatmulDescSetAttribute(desc, Int32(CCUBLASLT_MATMUL_DESC_TRANSA), &opT, 4), "TRANSA")
        try check(api.pointee.cublasLtMatmulDescSetAttribute(desc, Int32(CCUBLASLT_MATMUL_DESC_TRANSB), &opN, 4), "TRANSB")
        var a: cublasLtMatrixLayout_t?, b: cublasLtMatrixLayout_t?, d: cublasLtMatrixLayout_t?
        try check(api.pointee.cublasLtMatrixLayoutCreate(&a, input.rawValue, UInt64(k), UInt64(n), Int64(k)), "layout A")
        defer { if let a { _ = api.pointee.cublasLtMatrixLayoutDestroy(a) } }
        try check(api.pointee.cublasLtMatrixLayoutCreate(&b, input.rawValue, UInt64(k), UInt64(m), Int64(k)), "layout B")
        defer { if let b { _ = api.pointee.cublasLtMatrixLayoutDestroy(b) } }
        try check(api.pointee.cublasLtMatrixLayoutCreate(&d, output.rawValue, UInt64(n), UInt64(m), Int64(n)), "layout D")
        defer { if let d { _ = api.pointee.cublasLtMatrixLayoutDestroy(d) } }

        let shape = GEMMShape(m: m, n: n, k: k, input: input, output: output)
        var algo: CCUDABlasLtAlgo
        if let cached = algorithms.withLock({ $0[shape] }) {
            algo = cached
        } else {
            var pref: cublasLtMatmulPreference_t?
            try check(api.pointee.cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate")
            defer { if let pref { _ = api.pointee.cublasLtMatmulPreferenceDestroy(pref) } }
            var limit = UInt64(workspace.byteCount)
            try check(api.pointee.cublasLtMatmulPreferenceSetAttribute(
                pref, Int32(CCUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES), &limit, 8), "MAX_WORKSPACE_BYTES")
            var result = CCUDABlasLtHeuristicResult()
            var returned: Int32 = 0
            try check(api.pointee.cublasLtMatmulAlgoGetHeuristic(handle, desc, a, b, d, d, pref, 1, &result, &returned),
                      "cublasLtMatmulAlgoGetHeuristic")
            guard returned > 0 else {
                throw CUDAError.blas(function: "cublasLtMatmulAlgoGetHeuristic", status: -1,
                                     message: "no algorithm for \(m)×\(n)×\(k) \(input)→\(output)")
            }
            algo = result.algo
            algorithms.withLock { $0[shape] = algo }
        }
        var alpha: Float = 1, beta: Float = 0
        try check(api.pointee.cublasLtMatmul(
            handle, desc, &alpha, UnsafeRawPointer(bitPattern: UInt(w)), a, UnsafeRawPointer(bitPattern: UInt(x)), b,
            &beta, UnsafeRawPointer(bitPattern: UInt(y)), d, UnsafeMutableRawPointer(bitPattern: UInt(y)), d, &algo,
            UnsafeMutableRawPointer(bitPattern: UInt(workspace.address)), workspace.byteCount, stream.handle),
            "cublasLtMatmul(\(m)×\(n)×\(k))")
    }

    /// Shapes whose algorithm is cached.
    public var cachedShapes: Int { algorithms.withLock { $0.count } }

    private func check(_ status: cublasStatus_t, _ function: String) throws { try Self.check(api, status, function) }

    static func check(_ api: UnsafePointer<CCUDABlasLtAPI>, _ status: cublasStatus_t, _ function: String) throws {
        guard status != 0 else { return }
        let text = api.pointee.cublasLtGetStatusString.flatMap { $0(status) }
        let message = text.map { String(cString: $0) } ?? "status \(status)"
        throw CUDAError.blas(function: function, status: status, message: message)
    }
}
