import HTTPTypes
import JSON
import Runtime

/// An error answered to the client: an HTTP status and a message naming the problem.
///
/// The native API writes it as `{"error": {"message": ...}}`, the OpenAI API as
/// `{"object": "error", "message", "type", "param", "code"}` (spec §2.1, §4.2).
public struct ServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code (4xx for the client's mistakes, 5xx for ours).
    public var status: Int
    /// What is wrong, for a person.
    public var message: String
    /// The request field at fault, when there is one (OpenAI's `param`).
    public var param: String?

    /// An error with a status and message.
    public init(status: Int, _ message: String, param: String? = nil) {
        self.status = status
        self.message = message
        self.param = param
    }

    /// 400: the request is malformed.
    public static func badRequest(_ message: String, param: String? = nil) -> ServerError {
        ServerError(status: 400, message, param: param)
    }

    public var description: String { "\(status): \(message)" }

    /// OpenAI's error `type` for the status.
    public var openAIType: String {
        switch status {
        case 400: return "BadRequestError"
        case 401: return "AuthenticationError"
        case 403: return "PermissionDeniedError"
        case 404: return "NotFoundError"
        case 408: return "TimeoutError"
        case 413: return "RequestTooLargeError"
        case 422: return "UnprocessableEntityError"
        case 429: return "RateLimitError"
        case 503: return "ServiceUnavailableError"
        case 400..<500: return "BadRequestError"
        default: return "InternalServerError"
        }
    }

    /// `{"error": {"message": ...}}` (native endpoints).
    public var nativeJSON: JSONValue {
        .object(JSONObject([("error", .object(JSONObject([("message", .string(message))])))]))
    }

    /// `{"object": "error", "message", "type", "param", "code"}` (OpenAI endpoints).
    public var openAIJSON: JSONValue {
        .object(JSONObject([
            ("object", .string("error")), ("message", .string(message)), ("type", .string(openAIType)),
            ("param", param.map { .string($0) } ?? .null), ("code", .int(status)),
        ]))
    }

    /// The engine's validation errors become 400s with the engine's message.
    static func from(_ error: any Error) -> ServerError {
        if let e = error as? ServerError { return e }
        if let e = error as? RuntimeError {
            switch e {
            case .invalidInput(let m), .invalidSamplingParams(let m): return .badRequest(m)
            case .modelNotFound, .invalidBenchmark: return ServerError(status: 500, e.description)
            }
        }
        if error is CancellationError { return ServerError(status: 499, "the request was cancelled") }
        return ServerError(status: 500, "internal error: \(error)")
    }

    /// The error for a request that finished with an abort, or nil when the abort is an ordinary outcome
    /// (an explicit `/abort_request`): as SGLang, invalid requests answer 400 and engine failures 5xx.
    static func fromAbort(_ reason: FinishReason?) -> ServerError? {
        guard case .abort(let message, let code)? = reason else { return nil }
        switch code {
        case 400, 408, 413, 500, 503: return ServerError(status: code, message)
        default: return nil
        }
    }
}
