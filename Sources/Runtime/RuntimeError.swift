/// Errors of model loading, generation and benchmarking, each saying what is wrong.
public enum RuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The model path does not exist or is not a model folder / .gguf file.
    case modelNotFound(String)
    /// A sampling parameter is out of range.
    case invalidSamplingParams(String)
    /// A prompt or its token ids cannot be used with this model.
    case invalidInput(String)
    /// A benchmark shape cannot be run.
    case invalidBenchmark(String)

    public var description: String {
        switch self {
        case .modelNotFound(let m): return "model not found: \(m)"
        case .invalidSamplingParams(let m): return "invalid sampling parameters: \(m)"
        case .invalidInput(let m): return "invalid input: \(m)"
        case .invalidBenchmark(let m): return "invalid benchmark: \(m)"
        }
    }
}
