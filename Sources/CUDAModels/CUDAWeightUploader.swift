import CUDA
import Models

/// Moves checkpoint tensors to the device in the model's element type, or — for `--load-format dummy` —
/// fills device buffers with seeded uniform values without touching host memory.
struct CUDAWeightUploader {
    let context: CUDAContext
    let kernels: CUDAKernels
    let stream: CUDAStream
    let type: CUDAElementType
    /// The source of real weights; nil for dummy weights.
    let source: (any WeightSource)?
    /// The dummy weights' seed.
    let seed: UInt64
    /// Dummy weights are uniform in ±`dummyRange` (SGLang's dummy loader uses ±1e-3).
    let dummyRange: Float = 1e-3
    /// Counts dummy tensors so each gets its own stream of values.
    private var dummyIndex: UInt64 = 0
    /// Device bytes uploaded so far.
    private(set) var bytes = 0

    init(context: CUDAContext, kernels: CUDAKernels, stream: CUDAStream, type: CUDAElementType,
         source: (any WeightSource)?, seed: UInt64) {
        self.context = context
        self.kernels = kernels
        self.stream = stream
        self.type = type
        self.source = source
        self.seed = seed
    }

    /// The fused matrix of `names`, row-major `totalRows × cols`.
    mutating func matrix(_ names: StackedWeightNames) throws -> CUDADeviceBuffer {
        guard let source else { return try dummy(count: names.totalRows * names.cols, low: -dummyRange, high: dummyRange) }
        return try upload(source.stackedFloats(names))
    }

    /// The fused bias of `names`, nil when it has none.
    mutating func bias(_ names: StackedWeightNames) throws -> CUDADeviceBuffer? {
        guard names.biases != nil else { return nil }
        guard let source else { return try dummy(count: names.totalRows, low: -dummyRange, high: dummyRange) }
        return try source.stackedBiases(names).map { try upload($0) }
    }

    /// A vector of `count` values (norm weights; dummy norms are near 1 so activations keep their scale).
    mutating func vector(_ name: String, count: Int, dummyCenter: Float = 1) throws -> CUDADeviceBuffer {
        guard let source else { return try dummy(count: count, low: dummyCenter - dummyRange, high: dummyCenter + dummyRange) }
        return try upload(source.vectorFloats(name, count: count))
    }

    /// `values` converted to the element type, on the device.
    mutating func upload(_ values: [Float]) throws -> CUDADeviceBuffer {
        bytes += values.count * type.size
        switch type {
        case .float32:
            return try CUDADeviceBuffer(context: context, copying: values)
        case .bfloat16:
            let bits = [UInt16](unsafeUninitializedCapacity: values.count) { out, n in
                values.withUnsafeBufferPointer { src in
                    for i in src.indices { out[i] = BFloat16Conversion.bits(src[i]) }
                }
                n = values.count
            }
            return try CUDADeviceBuffer(context: context, copying: bits)
        }
    }

    private mutating func dummy(count: Int, low: Float, high: Float) throws -> CUDADeviceBuffer {
        let buffer = try CUDADeviceBuffer(context: context, byteCount: count * type.size)
        dummyIndex += 1
        try kernels.fillUniform(buffer.address, count: count, seed: seed &* 1_000_003 &+ dummyIndex, low: low, high: high,
                                type: type, stream: stream)
        bytes += count * type.size
        return buffer
    }
}

/// One decoder layer's weights on the device.
struct CUDADecoderLayer {
    let qkv: CUDADeviceBuffer
    let qkvBias: CUDADeviceBuffer?
    let output: CUDADeviceBuffer
    let outputBias: CUDADeviceBuffer?
    let qNorm: CUDADeviceBuffer?
    let kNorm: CUDADeviceBuffer?
    let inputNorm: CUDADeviceBuffer
    let postAttentionNorm: CUDADeviceBuffer
    let preFeedForwardNorm: CUDADeviceBuffer?
    let postFeedForwardNorm: CUDADeviceBuffer?
    let gateUp: CUDADeviceBuffer
    let gateUpBias: CUDADeviceBuffer?
    let down: CUDADeviceBuffer
    let downBias: CUDADeviceBuffer?
    /// Sliding window of this layer (nil: full causal attention).
    let window: Int?

    /// Uploads layer `layer` of `config`.
    static func load(_ up: inout CUDAWeightUploader, config: ModelConfig, layer: Int) throws -> CUDADecoderLayer {
        let names = config.layerWeightNames(layer)
        guard let gateUp = names.gateUp, let down = names.down else {
            throw CUDAModelError.unsupported(
                "\(config.family) layer \(layer) is a mixture-of-experts layer; MoE models run on the CPU backend (--device cpu)")
        }
        let h = config.hiddenSize, hd = config.headDim
        // Gemma's norms scale by (1 + w): their dummy weights center on 0.
        let normCenter: Float = config.traits.normAddsOne ? 0 : 1
        return CUDADecoderLayer(
            qkv: try up.matrix(names.qkv), qkvBias: try up.bias(names.qkv),
            output: try up.matrix(names.output), outputBias: try up.bias(names.output),
            qNorm: try names.qNorm.map { try up.vector($0, count: hd) },
            kNorm: try names.kNorm.map { try up.vector($0, count: hd) },
            inputNorm: try up.vector(names.inputNorm, count: h, dummyCenter: normCenter),
            postAttentionNorm: try up.vector(names.postAttentionNorm, count: h, dummyCenter: normCenter),
            preFeedForwardNorm: try names.preFeedForwardNorm.map { try up.vector($0, count: h, dummyCenter: normCenter) },
            postFeedForwardNorm: try names.postFeedForwardNorm.map { try up.vector($0, count: h, dummyCenter: normCenter) },
            gateUp: try up.matrix(gateUp), gateUpBias: try up.bias(gateUp),
            down: try up.matrix(down), downBias: try up.bias(down),
            window: config.slidingWindow(forLayer: layer))
    }
}
