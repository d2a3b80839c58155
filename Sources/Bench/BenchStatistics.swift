/// numpy's summary statistics as SGLang's benchmarks use them (an empty list counts as `[0]`, as
/// `np.mean(xs or 0)` does).
public enum BenchStatistics {
    /// Arithmetic mean.
    public static func mean(_ xs: [Double]) -> Double {
        xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
    }

    /// Median (the mean of the two middle values for an even count).
    public static func median(_ xs: [Double]) -> Double { percentile(xs, 50) }

    /// Population standard deviation (numpy's default `ddof = 0`).
    public static func std(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return 0 }
        let m = mean(xs)
        return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count)).squareRoot()
    }

    /// numpy's default percentile: linear interpolation between the closest ranks, rank = p/100 · (n − 1).
    public static func percentile(_ xs: [Double], _ p: Double) -> Double {
        guard !xs.isEmpty else { return 0 }
        let sorted = xs.sorted()
        let rank = Swift.min(Swift.max(p, 0), 100) / 100 * Double(sorted.count - 1)
        let lo = Int(rank.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        let fraction = rank - Double(lo)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * fraction
    }

    /// Largest value (0 for none).
    public static func max(_ xs: [Double]) -> Double { xs.max() ?? 0 }
}
