import HTTPTypes
import Hummingbird
import JSON
import NIOCore

/// `--api-key`: every route except `/health` needs `Authorization: Bearer <key>`; otherwise 401
/// `{"error": "Unauthorized"}` as SGLang answers (spec §2.1).
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" || request.method == .options {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], constantTimeEqual(header, "Bearer " + key) else {
            return SGLangServer.json(.object(JSONObject([("error", .string("Unauthorized"))])), status: .unauthorized)
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so response timing does not reveal how much of the key matched.
    func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) {
            diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0))
        }
        return diff == 0
    }
}

/// Writes every error as JSON in the shape of the API it came from: OpenAI's under `/v1/`, SGLang's native
/// `{"error": {"message"}}` elsewhere (unknown routes, wrong methods, body limits, handler errors).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let e = Self.serverError(error, request: request)
            let openAI = request.uri.path.hasPrefix("/v1/")
            return SGLangServer.json(openAI ? e.openAIJSON : e.nativeJSON, status: HTTPResponse.Status(code: e.status))
        }
    }

    static func serverError(_ error: any Error, request: Request) -> ServerError {
        if let e = error as? ServerError { return e }
        if let e = error as? HTTPError {
            let status = Int(e.status.code)
            if status == 404 { return ServerError(status: 404, "no route for \(request.method) \(request.uri.path)") }
            if status == 405 { return ServerError(status: 405, "\(request.method) is not allowed on \(request.uri.path)") }
            return ServerError(status: status, e.body ?? e.status.reasonPhrase)
        }
        if error is NIOTooManyBytesError { return ServerError(status: 413, "the request body is too large") }
        return ServerError.from(error)
    }
}
