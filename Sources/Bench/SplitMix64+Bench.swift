import Foundation
import Runtime

/// The benchmarks draw from Runtime's seeded `SplitMix64`, so datasets and Poisson arrivals are reproducible
/// from `--seed` alone, on every platform.
extension SplitMix64 {
    /// A uniform integer in `range` (inclusive).
    mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// An exponential draw with the given mean (inverse CDF; `1 - u` keeps the log's argument in (0, 1]).
    mutating func exponential(mean: Double) -> Double { -mean * log(1 - nextUnit()) }
}
