import Foundation

/// The benchmarks' seeded random stream (SplitMix64): datasets and Poisson arrivals are reproducible from
/// `--seed` alone, on every platform.
public struct BenchRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A stream seeded with `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range` (inclusive).
    public mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// A uniform double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// An exponential draw with the given mean (inverse CDF; `1 - u` keeps the log's argument in (0, 1]).
    public mutating func exponential(mean: Double) -> Double { -mean * log(1 - unit()) }
}
