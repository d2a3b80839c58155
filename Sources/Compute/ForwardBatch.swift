/// Whether a batch processes new prompt tokens or generates one token per request.
public enum ForwardMode: Sendable, Hashable {
    /// Prefill or extend: each request adds `extendLens[i]` tokens after a cached prefix of `prefixLens[i]`.
    case extend
    /// Decode: each request adds exactly one token.
    case decode
}

/// The metadata of one model forward over several requests (SGLang's `ForwardBatch`).
///
/// Tokens of all requests are flattened in request order: request `i` owns `extendLens[i]` consecutive
/// entries of `inputIds`, `positions` and `outCacheLoc`. Its KV history lives in row `reqPoolIndices[i]` of
/// the `ReqToTokenPool`: positions `0..<prefixLens[i]` are already cached there, the new tokens go to
/// `outCacheLoc` (written into the table by `ReqToTokenPool.record(_:)` before attention runs).
public struct ForwardBatch: Sendable, Hashable {
    /// Extend or decode.
    public var mode: ForwardMode
    /// Token ids of every new token, flattened.
    public var inputIds: [Int32]
    /// Absolute position of every new token.
    public var positions: [Int32]
    /// KV slot each new token's key and value are written to.
    public var outCacheLoc: [Int32]
    /// Row of each request in the `ReqToTokenPool`.
    public var reqPoolIndices: [Int32]
    /// Cached tokens of each request before this forward.
    public var prefixLens: [Int]
    /// New tokens of each request in this forward.
    public var extendLens: [Int]
    /// Total tokens of each request after this forward (`prefixLens + extendLens`).
    public var seqLens: [Int]
    /// Tokens whose input embedding is given instead of looked up (image features); nil for none.
    public var embeddingOverrides: EmbeddingOverrides?

    /// Creates a batch; `validate()` checks the lengths agree.
    public init(mode: ForwardMode, inputIds: [Int32], positions: [Int32], outCacheLoc: [Int32],
                reqPoolIndices: [Int32], prefixLens: [Int], extendLens: [Int]) {
        self.mode = mode
        self.inputIds = inputIds
        self.positions = positions
        self.outCacheLoc = outCacheLoc
        self.reqPoolIndices = reqPoolIndices
        self.prefixLens = prefixLens
        self.extendLens = extendLens
        self.seqLens = zip(prefixLens, extendLens).map { $0 + $1 }
    }

    /// Builds the batch for requests that each append `newTokens[i]` after `prefixLens[i]` cached tokens,
    /// with consecutive positions, using the given KV slots (one per new token, in order).
    public init(requests reqPoolIndices: [Int32], prefixLens: [Int], newTokens: [[Int32]], slots: [Int32]) {
        var positions: [Int32] = []
        positions.reserveCapacity(slots.count)
        for (prefix, tokens) in zip(prefixLens, newTokens) {
            for j in 0..<tokens.count { positions.append(Int32(prefix + j)) }
        }
        let isDecode = newTokens.allSatisfy { $0.count == 1 } && prefixLens.allSatisfy { $0 > 0 }
        self.init(mode: isDecode ? .decode : .extend, inputIds: newTokens.flatMap { $0 }, positions: positions,
                  outCacheLoc: slots, reqPoolIndices: reqPoolIndices, prefixLens: prefixLens,
                  extendLens: newTokens.map(\.count))
    }

    /// Number of requests.
    public var batchSize: Int { reqPoolIndices.count }
    /// Number of new tokens over all requests.
    public var tokenCount: Int { inputIds.count }

    /// Index of each request's first token in the flat arrays.
    public var extendStartLoc: [Int] {
        var starts: [Int] = []
        starts.reserveCapacity(extendLens.count)
        var s = 0
        for n in extendLens {
            starts.append(s)
            s += n
        }
        return starts
    }

    /// Checks that every per-token and per-request array has a consistent length.
    public func validate() throws {
        let n = inputIds.count
        guard positions.count == n, outCacheLoc.count == n else {
            throw ComputeError.invalidBatch(
                "\(n) input ids but \(positions.count) positions and \(outCacheLoc.count) cache locations")
        }
        let b = reqPoolIndices.count
        guard prefixLens.count == b, extendLens.count == b, seqLens.count == b else {
            throw ComputeError.invalidBatch("per-request arrays disagree on the batch size \(b)")
        }
        guard extendLens.reduce(0, +) == n, extendLens.allSatisfy({ $0 > 0 }) else {
            throw ComputeError.invalidBatch("extend lengths \(extendLens) do not cover the \(n) tokens")
        }
        // Attention reads the request's table up to each token's position, so positions must lie inside
        // the request's sequence.
        var t = 0
        for i in 0..<b {
            for _ in 0..<extendLens[i] {
                let p = Int(positions[t])
                guard p >= 0, p < seqLens[i] else {
                    throw ComputeError.invalidBatch(
                        "token \(t) of request \(i) has position \(p) outside its sequence of \(seqLens[i]) tokens")
                }
                t += 1
            }
        }
        if mode == .decode, extendLens.contains(where: { $0 != 1 }) {
            throw ComputeError.invalidBatch("decode batches take exactly one token per request")
        }
    }
}
