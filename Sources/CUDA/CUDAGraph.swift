import CCUDA

/// A captured and instantiated CUDA graph (`CUDAStream.capture`), replayed with `launch(on:)`.
///
/// Everything the captured kernels read must stay at the same device addresses between replays.
public final class CUDAGraph: @unchecked Sendable {
    // @unchecked: immutable handles.
    /// The owning context.
    public let context: CUDAContext
    let graph: CUgraph
    let exec: CUgraphExec

    init(context: CUDAContext, graph: CUgraph) throws {
        self.context = context
        self.graph = graph
        var e: CUgraphExec?
        let r = context.driver.api.pointee.cuGraphInstantiateWithFlags(&e, graph, 0)
        guard r == 0, let e else {
            _ = context.driver.api.pointee.cuGraphDestroy(graph)
            try context.driver.check(r == 0 ? -1 : r, "cuGraphInstantiateWithFlags")
            throw CUDAError.driver(function: "cuGraphInstantiateWithFlags", code: -1, name: "NULL", message: "no graph")
        }
        exec = e
    }

    deinit {
        _ = try? context.bind()
        _ = context.driver.api.pointee.cuGraphExecDestroy(exec)
        _ = context.driver.api.pointee.cuGraphDestroy(graph)
    }

    /// Replays the graph on `stream`.
    public func launch(on stream: CUDAStream) throws {
        try context.bind()
        try context.driver.check(context.driver.api.pointee.cuGraphLaunch(exec, stream.handle), "cuGraphLaunch")
    }
}
