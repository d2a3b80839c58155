/// Prefix-cache hit counters for the scheduler's "cache hit rate" (spec §7.2 Metrics): tokens found in the
/// tree over tokens looked up, summed over admitted requests.
public struct RadixCacheHitStats: Sendable, Equatable {
    /// Tokens whose KV came from the tree.
    public var hitTokens: Int = 0
    /// Tokens looked up (hit + newly computed).
    public var queriedTokens: Int = 0

    /// Counters at zero.
    public init() {}

    /// `hitTokens / queriedTokens`, 0 before any lookup.
    public var hitRate: Double {
        queriedTokens > 0 ? Double(hitTokens) / Double(queriedTokens) : 0
    }
}
