import CCUDA
import Foundation

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
        let env = processEnvironment()
        if env["SGLANG_GRAPH_UPLOAD"] == "1", let upload = context.driver.api.pointee.cuGraphUpload {
            _ = upload(e, nil)
            _ = context.driver.api.pointee.cuCtxSynchronize()
        }
        timing = env["SGLANG_GRAPH_TIMING"] == "1"
        if timing, let getNodes = context.driver.api.pointee.cuGraphGetNodes,
           let getType = context.driver.api.pointee.cuGraphNodeGetType {
            var count = 0
            _ = getNodes(graph, nil, &count)
            var nodes = [UnsafeMutableRawPointer?](repeating: nil, count: count)
            _ = getNodes(graph, &nodes, &count)
            var kinds: [Int32: Int] = [:]
            for n in nodes {
                var t: Int32 = -1
                _ = getType(n, &t)
                kinds[t, default: 0] += 1
            }
            FileHandle.standardError.write("graph: \(count) nodes, by type \(kinds)\n".data(using: .utf8) ?? Data())
        }
    }

    let timing: Bool
    var launches = 0

    deinit {
        _ = try? context.bind()
        _ = context.driver.api.pointee.cuGraphExecDestroy(exec)
        _ = context.driver.api.pointee.cuGraphDestroy(graph)
    }

    /// Replays the graph on `stream`.
    public func launch(on stream: CUDAStream) throws {
        try context.bind()
        let start = timing ? DispatchTime.now().uptimeNanoseconds : 0
        try context.driver.check(context.driver.api.pointee.cuGraphLaunch(exec, stream.handle), "cuGraphLaunch")
        if timing {
            launches += 1
            let us = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
            FileHandle.standardError.write(String(format: "graph launch %d: %.1f us\n", launches, us).data(using: .utf8) ?? Data())
        }
    }
}
