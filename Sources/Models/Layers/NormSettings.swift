import Compute

/// RMSNorm settings shared by every norm of a model.
struct NormSettings {
    /// `rms_norm_eps`.
    let eps: Float
    /// Gemma's `x · (1 + w)`.
    let addOne: Bool
}
