/// The slice of a model one GPU of a tensor-parallel group holds (Megatron's split, DESIGN.md §4): q/k/v and
/// gate/up are split by output rows (whole heads; KV heads are replicated when there are fewer than GPUs), the
/// attention output and down projections by input columns, each followed by a sum over the group; norms,
/// embeddings, the router and the vocabulary projection are whole on every GPU.
public struct TensorParallelShard: Sendable, Hashable {
    /// This GPU's rank, `0..<size`.
    public let rank: Int
    /// GPUs in the group.
    public let size: Int

    /// The single-GPU model.
    public static let whole = TensorParallelShard(uncheckedRank: 0, size: 1)

    /// Rank `rank` of `size`.
    /// - Throws: `ModelError.tensorParallel` when `size < 1` or the rank is outside `0..<size`.
    public init(rank: Int, size: Int) throws {
        guard size >= 1 else { throw ModelError.tensorParallel(size: size, reason: "must be at least 1") }
        guard (0..<size).contains(rank) else {
            throw ModelError.tensorParallel(size: size, reason: "rank \(rank) is outside 0..<\(size)")
        }
        self.init(uncheckedRank: rank, size: size)
    }

    private init(uncheckedRank rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// A run of output rows of a column-parallel matrix, split over the group.
    public enum Segment: Sendable, Hashable {
        /// `rows` rows cut into `size` equal pieces (gate, up).
        case even(rows: Int)
        /// `count` heads of `headDim` rows: whole heads per GPU, or one replicated head when `count < size`.
        case heads(count: Int, headDim: Int)

        var rows: Int {
            switch self {
            case .even(let rows): rows
            case .heads(let count, let headDim): count * headDim
            }
        }
    }

    /// How a matrix is split over the group.
    public enum Split: Sendable, Hashable {
        /// Whole on every GPU.
        case whole
        /// Column-parallel: output rows, by segments (q/k/v heads, gate/up halves).
        case rows([Segment])
        /// Row-parallel: input columns; its bias is added by rank 0 alone, before the sum over the group.
        case columns
    }

    /// The rows (of the whole matrix) and columns this GPU keeps of `names` under `split`.
    public func kept(_ names: StackedWeightNames, _ split: Split) -> (rows: [Range<Int>], columns: Range<Int>) {
        guard size > 1 else { return ([0..<names.totalRows], 0..<names.cols) }
        switch split {
        case .whole: return ([0..<names.totalRows], 0..<names.cols)
        case .rows(let segments): return (keptRows(segments), 0..<names.cols)
        case .columns: return ([0..<names.totalRows], keptColumns(names.cols))
        }
    }

    /// Checks that `config` splits over the group: query heads, intermediate widths (dense and expert) divide by
    /// the size, and KV heads divide by it or it by them.
    public func validate(_ config: ModelConfig) throws {
        guard size > 1 else { return }
        func need(_ ok: Bool, _ reason: String) throws {
            if !ok { throw ModelError.tensorParallel(size: size, reason: reason) }
        }
        let (q, kv) = (config.numAttentionHeads, config.numKeyValueHeads)
        try need(q % size == 0, "the \(q) attention heads do not divide over \(size) GPUs")
        try need(kv % size == 0 || size % kv == 0,
                 "the \(kv) KV heads neither divide over \(size) GPUs nor replicate evenly onto them")
        try need(config.intermediateSize % size == 0,
                 "the MLP width \(config.intermediateSize) does not divide over \(size) GPUs")
        if let moe = config.moe {
            try need(moe.expertIntermediateSize % size == 0,
                     "the expert width \(moe.expertIntermediateSize) does not divide over \(size) GPUs")
            if let shared = moe.sharedExpertIntermediateSize {
                try need(shared % size == 0, "the shared expert width \(shared) does not divide over \(size) GPUs")
            }
        }
    }

    /// The config of this GPU's slice: its query and KV heads and intermediate widths (everything else whole).
    public func localConfig(_ config: ModelConfig) throws -> ModelConfig {
        try validate(config)
        guard size > 1 else { return config }
        var local = config
        local.numAttentionHeads = config.numAttentionHeads / size
        local.numKeyValueHeads = max(1, config.numKeyValueHeads / size)
        local.intermediateSize = config.intermediateSize / size
        if var moe = config.moe {
            moe.expertIntermediateSize /= size
            moe.sharedExpertIntermediateSize = moe.sharedExpertIntermediateSize.map { $0 / size }
            local.moe = moe
        }
        return local
    }

    /// The rows this GPU keeps of a column-parallel matrix whose rows are `segments` in order, as ranges of the
    /// whole matrix's rows (ascending).
    public func keptRows(_ segments: [Segment]) -> [Range<Int>] {
        var kept: [Range<Int>] = []
        var start = 0
        for segment in segments {
            let range: Range<Int>
            switch segment {
            case .even(let rows):
                let piece = rows / size
                range = (start + rank * piece)..<(start + (rank + 1) * piece)
            case .heads(let count, let headDim):
                if count >= size {
                    let per = count / size
                    range = (start + rank * per * headDim)..<(start + (rank + 1) * per * headDim)
                } else {
                    // Fewer heads than GPUs: `size / count` neighbouring ranks share one head.
                    let head = rank / (size / count)
                    range = (start + head * headDim)..<(start + (head + 1) * headDim)
                }
            }
            if let last = kept.last, last.upperBound == range.lowerBound {
                kept[kept.count - 1] = last.lowerBound..<range.upperBound
            } else if !range.isEmpty {
                kept.append(range)
            }
            start += segment.rows
        }
        return kept
    }

    /// The input columns this GPU keeps of a row-parallel matrix with `cols` columns.
    public func keptColumns(_ cols: Int) -> Range<Int> {
        let piece = cols / size
        return (rank * piece)..<((rank + 1) * piece)
    }

    /// The rows of `kept` that fall in a part stored at rows `partStart..<partStart + partRows` of the whole
    /// matrix, copied from the part's row-major values (`partRows × cols`).
    public static func rows(of part: [Float], partStart: Int, partRows: Int, cols: Int, kept: [Range<Int>]) -> [Float] {
        var out: [Float] = []
        let part0 = partStart, part1 = partStart + partRows
        for r in kept {
            let lo = max(r.lowerBound, part0), hi = min(r.upperBound, part1)
            guard lo < hi else { continue }
            out.append(contentsOf: part[((lo - part0) * cols)..<((hi - part0) * cols)])
        }
        return out
    }

    /// Columns `kept` of a row-major `rows × cols` matrix.
    public static func columns(of matrix: [Float], rows: Int, cols: Int, kept: Range<Int>) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(rows * kept.count)
        for r in 0..<rows {
            out.append(contentsOf: matrix[(r * cols + kept.lowerBound)..<(r * cols + kept.upperBound)])
        }
        return out
    }
}

extension WeightSource {
    /// This GPU's slice of the stacked matrix `names` under `split`, part by part: `body` gets each part's kept
    /// rows and columns (row-major), in row order; parts without a kept row are not read. Concatenated, the
    /// pieces are the slice (`shard.kept(names, split)`), without the whole matrix in memory at once.
    public func forEachShardedPart(_ names: StackedWeightNames, split: TensorParallelShard.Split,
                                   shard: TensorParallelShard, _ body: ([Float]) throws -> Void) throws {
        let (rows, columns) = shard.kept(names, split)
        let wholeRows = rows == [0..<names.totalRows]
        var partStart = 0
        for (part, n) in zip(names.parts, names.rows) {
            defer { partStart += n }
            guard rows.contains(where: { $0.overlaps(partStart..<(partStart + n)) }) else { continue }
            var values = try stackedFloats(StackedWeightNames(parts: [part], rows: [n], cols: names.cols))
            if columns.count < names.cols {
                values = TensorParallelShard.columns(of: values, rows: n, cols: names.cols, kept: columns)
            }
            if !wholeRows {
                values = TensorParallelShard.rows(of: values, partStart: partStart, partRows: n, cols: columns.count,
                                                  kept: rows)
            }
            try body(values)
        }
    }

    /// This GPU's slice of the stacked bias of `names` under `split`: nil when the matrix has none, and on every
    /// rank but 0 for a row-parallel matrix (its bias is added once, before the sum over the group).
    public func shardedBiases(_ names: StackedWeightNames, split: TensorParallelShard.Split,
                              shard: TensorParallelShard) throws -> [Float]? {
        if case .columns = split, shard.rank != 0 { return nil }
        guard let full = try stackedBiases(names) else { return nil }
        let rows = shard.kept(names, split).rows
        return TensorParallelShard.rows(of: full, partStart: 0, partRows: names.totalRows, cols: 1, kept: rows)
    }
}

extension DecoderLayerWeightNames {
    /// The output-row segments of the fused q/k/v matrix.
    public static func qkvSegments(_ config: ModelConfig) -> [TensorParallelShard.Segment] {
        let hd = config.headDim
        return [.heads(count: config.numAttentionHeads, headDim: hd), .heads(count: config.numKeyValueHeads, headDim: hd),
                .heads(count: config.numKeyValueHeads, headDim: hd)]
    }

    /// The output-row segments of a fused gate/up matrix of width `inner`, repeated for `experts` stacked experts.
    public static func gateUpSegments(inner: Int, experts: Int = 1) -> [TensorParallelShard.Segment] {
        Array(repeating: [TensorParallelShard.Segment.even(rows: inner), .even(rows: inner)], count: experts).flatMap { $0 }
    }
}
