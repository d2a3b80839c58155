import Bench
import JSON
import NIOHTTP1

/// JSON calls of the hosted-API backends (`OpenAI`, `Anthropic`) on Bench's NIO HTTP client: fixed headers on
/// every request, SGLang's retries (connection errors, 429 and 5xx: `retries` attempts, `retryDelay` apart), and
/// errors that name the status and the server's own error message.
struct APIClient: Sendable {
    /// The base URL; request paths are appended to its path (`http://host:port/v1` + `/completions`).
    let base: BenchURL
    let client: BenchHTTPClient
    /// Attempts per call (at least 1).
    let retries: Int
    let retryDelay: Duration

    /// `https://` URLs go through TLS (the system's trust roots).
    /// - Throws: `SGLangError.invalidProgram` for a malformed URL.
    init(baseURL: String, headers: [(String, String)], retries: Int, retryDelay: Duration) throws {
        do { base = try BenchURL(parsing: baseURL) } catch {
            throw SGLangError.invalidProgram("bad base URL: \(error)")
        }
        client = BenchHTTPClient(headers: headers)
        self.retries = max(1, retries)
        self.retryDelay = retryDelay
    }

    func url(_ path: String) -> BenchURL { base.appending(path: path) }

    /// Whether a status is worth another attempt (rate limits, server errors, Anthropic's 529 "overloaded").
    static func retryable(_ status: Int) -> Bool { status == 429 || (500...599).contains(status) }

    /// The error for a non-200 answer: the message of `{"error": {"message"}}` (OpenAI, Anthropic) or
    /// `{"message"}` (SGLang's error object), else the raw body.
    static func failure(_ path: String, status: Int, body: [UInt8]) -> SGLangError {
        let text = String(decoding: body, as: UTF8.self)
        let parsed = try? JSONValue.parse(bytes: body)
        let message = parsed?["error"]?["message"]?.stringValue ?? parsed?["message"]?.stringValue
            ?? parsed?["error"]?.stringValue ?? text
        return .backend("POST \(path) answered \(status): \(message)")
    }

    /// Posts `body` and returns the parsed JSON answer.
    func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        let target = url(path)
        let bytes = Array(body.serialized().utf8)
        var attempt = 0
        while true {
            attempt += 1
            let status: Int
            let answer: [UInt8]
            do {
                (status, answer) = try await client.fetch(method: .POST, url: target, body: bytes)
            } catch {
                if attempt < retries {
                    try await Task.sleep(for: retryDelay)
                    continue
                }
                throw SGLangError.backend("POST \(target): \(error)")
            }
            if status != 200 {
                if Self.retryable(status), attempt < retries {
                    try await Task.sleep(for: retryDelay)
                    continue
                }
                throw Self.failure(target.path, status: status, body: answer)
            }
            do { return try JSONValue.parse(bytes: answer) } catch {
                throw SGLangError.backend("POST \(target.path) answered 200 with invalid JSON: "
                                          + String(decoding: answer.prefix(500), as: UTF8.self))
            }
        }
    }

    /// Posts `body` and hands each server-sent event's JSON payload to `onEvent` as it arrives, up to
    /// `data: [DONE]` or the end of the body. A failed connection or a retryable status is retried as long as
    /// no event was handed over yet.
    func stream(_ path: String, _ body: JSONValue,
                onEvent: (JSONValue) async throws -> Void) async throws {
        let target = url(path)
        let bytes = Array(body.serialized().utf8)
        var attempt = 0
        while true {
            attempt += 1
            var parser = SSEParser()
            var delivered = false
            var done = false
            var errorBody: [UInt8] = []
            func handle(_ payload: String) async throws {
                guard !done else { return }
                if payload == "[DONE]" {
                    done = true
                    return
                }
                let event: JSONValue
                do { event = try JSONValue.parse(payload) } catch {
                    throw SGLangError.backend("POST \(target.path) streamed invalid JSON: \(payload.prefix(300))")
                }
                delivered = true
                try await onEvent(event)
            }
            let status: Int
            do {
                status = try await client.send(method: .POST, url: target, body: bytes) { chunk in
                    if errorBody.count < 8192 { errorBody += chunk.prefix(8192 - errorBody.count) }
                    for p in parser.feed(chunk) { try await handle(p) }
                }
            } catch let error as SGLangError {
                throw error
            } catch {
                if !delivered, attempt < retries, !Task.isCancelled {
                    try await Task.sleep(for: retryDelay)
                    continue
                }
                throw SGLangError.backend("POST \(target): \(error)")
            }
            if status != 200 {
                if Self.retryable(status), attempt < retries {
                    try await Task.sleep(for: retryDelay)
                    continue
                }
                throw Self.failure(target.path, status: status, body: errorBody)
            }
            for p in parser.finish() { try await handle(p) }
            return
        }
    }
}
