import Compute

/// Activation buffers of one forward pass, reused across steps and grown only when a batch has more
/// tokens than any before, so decode steps allocate nothing.
final class Workspace {
    private(set) var capacity = 0
    private let sizes: WorkspaceSizes

    /// Residual stream `[T × hidden]`.
    private(set) var hidden = FloatBuffer(count: 0)
    /// Normalized input of the current sublayer `[T × hidden]`.
    private(set) var normed = FloatBuffer(count: 0)
    /// Output of the current sublayer `[T × hidden]`.
    private(set) var delta = FloatBuffer(count: 0)
    /// Fused q/k/v `[T × qkvWidth]`.
    private(set) var qkv = FloatBuffer(count: 0)
    /// Attention output `[T × qHeads·headDim]`.
    private(set) var attention = FloatBuffer(count: 0)
    /// Gate and up projections `[T × 2·inner]`.
    private(set) var gateUp = FloatBuffer(count: 0)
    /// Activated MLP hidden `[T × inner]`.
    private(set) var activated = FloatBuffer(count: 0)
    /// MoE: rows routed to one expert `[T × hidden]`, its output, and router logits/probabilities.
    private(set) var expertInput = FloatBuffer(count: 0)
    private(set) var expertOutput = FloatBuffer(count: 0)
    private(set) var router = FloatBuffer(count: 0)

    init(sizes: WorkspaceSizes) {
        self.sizes = sizes
    }

    /// Makes every buffer hold at least `tokens` rows.
    func reserve(tokens: Int) {
        guard tokens > capacity else { return }
        let n = max(tokens, 1)
        hidden = FloatBuffer(count: n * sizes.hidden)
        normed = FloatBuffer(count: n * sizes.hidden)
        delta = FloatBuffer(count: n * sizes.hidden)
        qkv = FloatBuffer(count: n * sizes.qkvWidth)
        attention = FloatBuffer(count: n * sizes.attentionWidth)
        gateUp = FloatBuffer(count: n * 2 * sizes.maxInner)
        activated = FloatBuffer(count: n * sizes.maxInner)
        if sizes.experts > 0 {
            expertInput = FloatBuffer(count: n * sizes.hidden)
            expertOutput = FloatBuffer(count: n * sizes.hidden)
            router = FloatBuffer(count: n * max(sizes.experts, 1))
        }
        capacity = n
    }
}

/// Row widths of the workspace buffers.
struct WorkspaceSizes {
    var hidden: Int
    var qkvWidth: Int
    var attentionWidth: Int
    var maxInner: Int
    var experts: Int
}
