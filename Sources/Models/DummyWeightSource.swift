/// Random weights of the shapes a config implies (`--load-format dummy`), for benchmarks and smoke tests.
///
/// Values are deterministic per (seed, tensor name): matrices are uniform in ±`scale`, norm weights are
/// 1 (or 0 for Gemma's `1 + w` norms) so activations keep a sane magnitude through many layers.
public final class DummyWeightSource: WeightSource {
    /// The config whose `expectedWeights()` this serves.
    public let config: ModelConfig
    /// The random seed.
    public let seed: UInt64
    /// Half-width of the uniform distribution of matrix entries.
    public let scale: Float
    public let names: [String]
    private let specs: [String: WeightSpec]

    /// Dummy weights for `config`.
    public init(config: ModelConfig, seed: UInt64 = 0, scale: Float = 0.02) {
        self.config = config
        self.seed = seed
        self.scale = scale
        let all = config.expectedWeights()
        specs = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        names = specs.keys.sorted()
    }

    public func info(named name: String) throws -> TensorInfo {
        guard let spec = specs[name] else { throw ModelError.missingTensor(name) }
        return TensorInfo(name: name, dtype: .f32, shape: spec.shape)
    }

    public func tensor(named name: String) throws -> TensorData {
        let info = try info(named: name)
        let n = info.elementCount
        let storage = DummyStorage(count: n)
        let p = storage.pointer
        if info.shape.count == 1 && name.hasSuffix("norm.weight") {
            let v: Float = config.traits.normAddsOne ? 0 : 1
            for i in 0..<n { p[i] = v }
        } else {
            // SplitMix64 seeded by the seed and an FNV-1a hash of the name.
            var state = seed ^ 0xCBF2_9CE4_8422_2325
            for b in name.utf8 { state = (state ^ UInt64(b)) &* 0x100_0000_01B3 }
            for i in 0..<n {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                p[i] = (Float(z >> 40) / Float(1 << 24) * 2 - 1) * scale
            }
        }
        return TensorData(info: info, bytes: UnsafeRawBufferPointer(start: p, count: n * 4), owner: storage)
    }
}

/// Owns the generated values of one dummy tensor.
private final class DummyStorage: @unchecked Sendable {
    // @unchecked: written once at creation, read-only afterwards.
    let pointer: UnsafeMutablePointer<Float>
    init(count: Int) {
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
}
