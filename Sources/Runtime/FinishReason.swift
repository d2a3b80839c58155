/// Why a request stopped (SGLang's `finish_reason` object, spec §2.3).
public enum FinishReason: Sendable, Hashable {
    /// `max_new_tokens` (or the context) was reached; the associated value is the length limit.
    case length(Int)
    /// EOS or a `stop_token_ids` id was generated.
    case matchedToken(Int)
    /// A `stop` string appeared in the text.
    case matchedString(String)
    /// The request was aborted (by the client, a disconnect, a timeout or an error).
    case abort(message: String, statusCode: Int)

    /// SGLang's `type` field: "length", "stop" or "abort".
    public var type: String {
        switch self {
        case .length: return "length"
        case .matchedToken, .matchedString: return "stop"
        case .abort: return "abort"
        }
    }
}
