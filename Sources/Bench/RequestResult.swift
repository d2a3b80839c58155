/// What the client measured for one request (SGLang's `RequestFuncOutput`). Times are seconds.
public struct RequestResult: Sendable, Hashable {
    /// Whether the request completed with status 200 and a well-formed body.
    public var success = false
    /// The dataset's prompt length.
    public var promptLen = 0
    /// Output tokens: the server's `completion_tokens` where it reports them, else the requested length.
    public var outputLen = 0
    /// Time to the first chunk with non-empty text (the whole latency without streaming).
    public var ttft = 0.0
    /// Request start to the last chunk.
    public var latency = 0.0
    /// Inter-token latencies (see `StreamTimer`).
    public var itl: [Double] = []
    /// The generated text.
    public var generatedText = ""
    /// When the request was sent (`BenchClock` seconds).
    public var startTime = 0.0
    /// Why the request failed.
    public var error = ""

    /// An empty (failed until filled) result.
    public init(promptLen: Int = 0) { self.promptLen = promptLen }
}

/// Times a streamed response the way SGLang's client does: TTFT is the first chunk with text; every later
/// chunk adds its gap to the ITL list, divided by the chunk's new tokens and repeated once per token when
/// the server reports a cumulative token count (native `/generate`), once per chunk otherwise (OpenAI).
public struct StreamTimer: Sendable {
    /// Request start.
    public let start: Double
    /// Seconds from the start to the first text (0 until then).
    public private(set) var ttft = 0.0
    /// Gaps per token.
    public private(set) var itl: [Double] = []
    /// Time of the last chunk with text (the start until one arrives).
    public private(set) var lastTextTime: Double
    /// Time of the last data line of any kind.
    public private(set) var lastEventTime: Double
    private var lastTokenCount = 0
    private var sawText = false

    /// A timer started at `start`.
    public init(start: Double) {
        self.start = start
        lastTextTime = start
        lastEventTime = start
    }

    /// Records a data line received at `time`. `hasText`: the chunk carries new text. `cumulativeTokens`: the
    /// server's completion token count so far, when it reports one.
    public mutating func event(at time: Double, hasText: Bool, cumulativeTokens: Int? = nil) {
        lastEventTime = time
        guard hasText else { return }
        if !sawText {
            sawText = true
            ttft = time - start
        } else if let tokens = cumulativeTokens {
            let fresh = tokens - lastTokenCount
            // A chunk without new tokens (the final one re-sending the text) keeps the previous timestamp.
            guard fresh > 0 else { return }
            let gap = (time - lastTextTime) / Double(fresh)
            itl.append(contentsOf: repeatElement(gap, count: fresh))
        } else {
            itl.append(time - lastTextTime)
        }
        lastTextTime = time
        if let tokens = cumulativeTokens { lastTokenCount = tokens }
    }
}
