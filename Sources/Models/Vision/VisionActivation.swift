import Foundation

/// The elementwise activation of a vision MLP or of the LLaVA projector (transformers' `ACT2FN` names).
public enum VisionActivation: String, Sendable, Hashable {
    /// CLIP's `quick_gelu`: x·σ(1.702·x).
    case quickGelu = "quick_gelu"
    /// Exact (erf) GELU, `gelu`.
    case gelu
    /// The tanh approximation, `gelu_pytorch_tanh` (SigLIP), `gelu_new`, `gelu_fast`.
    case geluTanh = "gelu_pytorch_tanh"
    /// x·σ(x).
    case silu
    /// max(x, 0).
    case relu

    /// Parses an `ACT2FN` name; nil when the name is not one of these.
    public init?(hfName: String) {
        switch hfName {
        case "quick_gelu": self = .quickGelu
        case "gelu": self = .gelu
        case "gelu_pytorch_tanh", "gelu_new", "gelu_fast", "gelu_tanh": self = .geluTanh
        case "silu", "swish": self = .silu
        case "relu": self = .relu
        default: return nil
        }
    }

    /// The names `init(hfName:)` accepts, for error messages.
    static let supportedNames = "quick_gelu, gelu, gelu_pytorch_tanh, gelu_new, silu, relu"

    /// Applies the activation in place to the first `count` values.
    func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .quickGelu:
            for i in 0..<count { let v = x[i]; x[i] = v / (1 + expf(-1.702 * v)) }
        case .gelu:
            for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
        case .geluTanh:
            for i in 0..<count {
                let v = x[i]
                x[i] = 0.5 * v * (1 + tanhf(0.79788456080286536 * (v + 0.044715 * v * v * v)))
            }
        case .silu:
            for i in 0..<count { let v = x[i]; x[i] = v / (1 + expf(-v)) }
        case .relu:
            for i in 0..<count { x[i] = max(x[i], 0) }
        }
    }
}
