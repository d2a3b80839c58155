import CCUDA
import CUDA

/// Decode forwards captured as CUDA graphs, one per padded batch size. A graph bakes in the addresses of the
/// KV cache, the device req-to-token table and the workspace, so it is kept only while those stay the same.
struct CUDADecodeGraphs {
    /// What a captured graph reads besides the model's own buffers: the device table and every K/V buffer
    /// (addresses, not object identities, which a new pool may reuse).
    struct Binding: Hashable {
        var table: CUdeviceptr
        var cache: [CUdeviceptr]
    }

    private var binding: Binding?
    private var byBatch: [Int: CUDAGraph] = [:]
    /// Graphs captured so far (over the model's lifetime).
    private(set) var captures = 0

    /// The graph of `batch` for `binding`, captured by `capture` on first use.
    mutating func graph(batch: Int, binding: Binding, capture: () throws -> CUDAGraph) throws -> CUDAGraph {
        if self.binding != binding {
            byBatch.removeAll()
            self.binding = binding
        }
        if let g = byBatch[batch] { return g }
        let g = try capture()
        byBatch[batch] = g
        captures += 1
        return g
    }

    /// Drops every graph (a buffer they read was reallocated).
    mutating func removeAll() { byBatch.removeAll() }
}
