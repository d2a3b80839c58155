import CCUDA

/// A non-blocking stream, destroyed with the object.
public final class CUDAStream: @unchecked Sendable {
    // @unchecked: the handle is immutable; the driver serializes work submitted to a stream.
    /// The owning context.
    public let context: CUDAContext
    /// The stream handle.
    public let handle: CUstream

    /// Creates a stream that does not synchronize with the legacy default stream.
    public init(context: CUDAContext) throws {
        self.context = context
        try context.bind()
        var s: CUstream?
        try context.driver.check(
            context.driver.api.pointee.cuStreamCreate(&s, UInt32(CCUDA_STREAM_NON_BLOCKING)), "cuStreamCreate")
        guard let s else { throw CUDAError.driver(function: "cuStreamCreate", code: -1, name: "NULL", message: "no stream") }
        handle = s
    }

    deinit {
        _ = try? context.bind()
        _ = context.driver.api.pointee.cuStreamDestroy(handle)
    }

    /// Waits until all work queued on the stream has finished (and reports any asynchronous kernel error).
    public func synchronize() throws {
        try context.bind()
        try context.driver.check(context.driver.api.pointee.cuStreamSynchronize(handle), "cuStreamSynchronize")
    }

    /// Captures the work `body` queues on this stream into a graph instead of running it.
    public func capture(_ body: () throws -> Void) throws -> CUDAGraph {
        try context.bind()
        let api = context.driver.api
        try context.driver.check(
            api.pointee.cuStreamBeginCapture(handle, Int32(CCUDA_STREAM_CAPTURE_MODE_THREAD_LOCAL)), "cuStreamBeginCapture")
        var graph: CUgraph?
        do {
            try body()
        } catch {
            _ = api.pointee.cuStreamEndCapture(handle, &graph)
            if let graph { _ = api.pointee.cuGraphDestroy(graph) }
            throw error
        }
        try context.driver.check(api.pointee.cuStreamEndCapture(handle, &graph), "cuStreamEndCapture")
        guard let graph else { throw CUDAError.driver(function: "cuStreamEndCapture", code: -1, name: "NULL", message: "no graph") }
        return try CUDAGraph(context: context, graph: graph)
    }
}
