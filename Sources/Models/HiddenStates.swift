/// Final hidden states of a forward (after the model's last norm, before the vocabulary projection):
/// `rows × hiddenSize` fp32 values, row-major. Embedding models pool them (spec §9.3).
public struct HiddenStates: Sendable, Hashable {
    /// Number of rows (one per request: its last new token).
    public let rows: Int
    /// Values per row.
    public let hiddenSize: Int
    /// Row-major values.
    public let values: [Float]

    /// `rows` rows of `hiddenSize` values.
    public init(rows: Int, hiddenSize: Int, values: [Float]) {
        self.rows = rows
        self.hiddenSize = hiddenSize
        self.values = values
    }

    /// Row `i`.
    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * hiddenSize)..<((i + 1) * hiddenSize)] }
}
