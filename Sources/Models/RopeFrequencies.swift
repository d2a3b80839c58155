import Foundation

/// Inverse frequencies of the rotated channel pairs and the factor applied to cos/sin.
public struct RopeFrequencies: Sendable, Hashable {
    /// One inverse frequency per rotated pair (`rotaryDim / 2` values), float32 as transformers keeps them.
    public var inverseFrequencies: [Float]
    /// Multiplier of cos and sin (YaRN and LongRoPE; 1 otherwise).
    public var attentionFactor: Double
}

extension RopeConfig {
    /// The frequencies for a forward whose longest sequence has `longest` tokens when they differ from the
    /// initialization-time ones (dynamic NTK and LongRoPE past their lengths, as transformers applies them),
    /// nil otherwise.
    public func lengthDependentFrequencies(longest: Int) -> RopeFrequencies? {
        switch scaling {
        case .dynamic where longest > maxPositionEmbeddings:
            return frequencies(sequenceLength: longest)
        case .longrope(let p) where longest > p.originalMaxPositionEmbeddings:
            return frequencies(sequenceLength: longest)
        default:
            return nil
        }
    }

    /// Computes the inverse frequencies exactly as transformers' `modeling_rope_utils.py` does for the
    /// scaling type, step by step in float32 where transformers uses float32 tensors and in double where
    /// it uses Python floats, so results agree to the last bit or two.
    ///
    /// - Parameter sequenceLength: the current sequence length; only dynamic NTK (θ grows past
    ///   `max_position_embeddings`) and LongRoPE (long factors past the pre-training length) use it.
    ///   nil means initialization time, as in transformers.
    public func frequencies(sequenceLength: Int? = nil) -> RopeFrequencies {
        let dim = rotaryDim
        switch scaling {
        case .none:
            return RopeFrequencies(inverseFrequencies: Self.baseInverseFrequencies(theta: theta, dim: dim), attentionFactor: 1)

        case .linear(let factor):
            let f = Float(factor)
            let inv = Self.baseInverseFrequencies(theta: theta, dim: dim).map { $0 / f }
            return RopeFrequencies(inverseFrequencies: inv, attentionFactor: 1)

        case .dynamic(let factor):
            let seq = max(sequenceLength ?? maxPositionEmbeddings, maxPositionEmbeddings)
            let grown = factor * Double(seq) / Double(maxPositionEmbeddings) - (factor - 1)
            let base = theta * pow(grown, Double(dim) / Double(dim - 2))
            return RopeFrequencies(inverseFrequencies: Self.baseInverseFrequencies(theta: base, dim: dim), attentionFactor: 1)

        case .llama3(let p):
            return RopeFrequencies(inverseFrequencies: Self.llama3(theta: theta, dim: dim, p), attentionFactor: 1)

        case .yarn(let p):
            return Self.yarn(theta: theta, dim: dim, maxPositionEmbeddings: maxPositionEmbeddings, p)

        case .longrope(let p):
            let factor = p.factor ?? Double(maxPositionEmbeddings) / Double(p.originalMaxPositionEmbeddings)
            let attention: Double
            if let a = p.attentionFactor {
                attention = a
            } else if factor <= 1 {
                attention = 1
            } else {
                attention = (1 + log(factor) / log(Double(p.originalMaxPositionEmbeddings))).squareRoot()
            }
            let useLong = (sequenceLength ?? 0) > p.originalMaxPositionEmbeddings
            let ext = useLong ? p.longFactor : p.shortFactor
            let b = Float(theta)
            var inv = [Float](repeating: 0, count: dim / 2)
            for i in 0..<(dim / 2) {
                let e = Float(2 * i) / Float(dim)
                inv[i] = 1 / (Float(ext[i]) * powf32(b, e))
            }
            return RopeFrequencies(inverseFrequencies: inv, attentionFactor: attention)
        }
    }

    /// `1 / base ** (arange(0, dim, 2) / dim)` in float32.
    static func baseInverseFrequencies(theta: Double, dim: Int) -> [Float] {
        let b = Float(theta)
        return (0..<(dim / 2)).map { i in 1 / powf32(b, Float(2 * i) / Float(dim)) }
    }

    static func llama3(theta: Double, dim: Int, _ p: Llama3RopeParameters) -> [Float] {
        let oldContext = Double(p.originalMaxPositionEmbeddings)
        let lowFreqWavelen = Float(oldContext / p.lowFreqFactor)
        let highFreqWavelen = Float(oldContext / p.highFreqFactor)
        let factor = Float(p.factor)
        let low = Float(p.lowFreqFactor)
        let span = Float(p.highFreqFactor - p.lowFreqFactor)
        let twoPi = Float(2 * Double.pi)
        return baseInverseFrequencies(theta: theta, dim: dim).map { inv in
            let wavelen = twoPi / inv
            // Long wavelengths are divided by the factor, short ones kept, the band between blended.
            let scaled = wavelen > lowFreqWavelen ? inv / factor : inv
            let isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen)
            guard isMedium else { return scaled }
            let smooth = (Float(oldContext) / wavelen - low) / span
            return (1 - smooth) * scaled / factor + smooth * scaled
        }
    }

    static func yarn(theta: Double, dim: Int, maxPositionEmbeddings: Int, _ p: YarnRopeParameters) -> RopeFrequencies {
        let originalMax = Double(p.originalMaxPositionEmbeddings)
        let factor = p.factor ?? Double(maxPositionEmbeddings) / originalMax

        func mscaleOf(_ scale: Double, _ m: Double = 1) -> Double {
            scale <= 1 ? 1.0 : 0.1 * m * log(scale) + 1.0
        }
        let attention: Double
        if let a = p.attentionFactor {
            attention = a
        } else if let m = p.mscale, let mAll = p.mscaleAllDim, m != 0, mAll != 0 {
            attention = mscaleOf(factor, m) / mscaleOf(factor, mAll)
        } else {
            attention = mscaleOf(factor)
        }
        // transformers uses `value or default`, so an explicit 0 also means the default.
        let betaFast = (p.betaFast ?? 0) != 0 ? p.betaFast ?? 32 : 32
        let betaSlow = (p.betaSlow ?? 0) != 0 ? p.betaSlow ?? 1 : 1

        func correctionDim(_ rotations: Double) -> Double {
            Double(dim) * log(originalMax / (rotations * 2 * Double.pi)) / (2 * log(theta))
        }
        var low = correctionDim(betaFast)
        var high = correctionDim(betaSlow)
        if p.truncate {
            low = low.rounded(.down)
            high = high.rounded(.up)
        }
        low = max(low, 0)
        high = min(high, Double(dim - 1))
        if low == high { high += 0.001 }  // avoids a zero-width ramp

        let b = Float(theta)
        let f = Float(factor)
        let lowF = Float(low)
        let width = Float(high - low)
        var inv = [Float](repeating: 0, count: dim / 2)
        for i in 0..<(dim / 2) {
            let posFreq = powf32(b, Float(2 * i) / Float(dim))
            let extrapolation = 1 / posFreq
            let interpolation = 1 / (f * posFreq)
            let ramp = min(max((Float(i) - lowF) / width, 0), 1)
            let extrapolationFactor = 1 - ramp
            inv[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor
        }
        return RopeFrequencies(inverseFrequencies: inv, attentionFactor: attention)
    }
}

/// float32 `base ** exponent`, rounded from the double result (torch's float pow is within an ulp of this).
@inline(__always)
func powf32(_ base: Float, _ exponent: Float) -> Float {
    Float(pow(Double(base), Double(exponent)))
}
