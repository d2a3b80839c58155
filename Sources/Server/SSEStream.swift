import Hummingbird
import JSON
import NIOCore

/// Turns a run's events into the `data:` payloads of one API's stream.
protocol StreamFormatter: Sendable {
    /// Payloads for one event (possibly none).
    mutating func chunks(for event: RunEvent) -> [String]
    /// Payloads after the last event, before `[DONE]`.
    mutating func finish() -> [String]
    /// The payload that reports an error mid-stream.
    func error(_ error: ServerError) -> String
}

/// Server-sent events as SGLang writes them: `data: <json>\n\n` per chunk, then `data: [DONE]\n\n`
/// (spec §2.4). Errors after the stream began are sent as a `data: {"error": …}` chunk.
enum SSEStream {
    /// The SSE bytes of one payload.
    static func frame(_ payload: String) -> ByteBuffer { ByteBuffer(string: "data: " + payload + "\n\n") }

    /// Compact JSON text for a payload.
    static func json(_ value: JSONValue) -> String { value.serialized(.compact) }

    /// A streaming response over `handle`. A client that goes away (a failed write, or its connection seen
    /// closed by the watcher) cancels the run, which aborts its requests in the engine.
    static func response<F: StreamFormatter>(_ handle: RunHandle, channel: any Channel, formatter: F,
                                             onEvent: @escaping @Sendable (RunEvent) -> Void = { _ in }) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let watcher = GenerationRunner.watch(channel, handle)
            defer {
                watcher?.cancel()
                handle.cancel()
            }
            var f = formatter
            var failure: ServerError?
            do {
                for try await event in handle.events {
                    onEvent(event)
                    for chunk in f.chunks(for: event) {
                        do { try await writer.write(frame(chunk)) } catch { throw ClientGone() }
                    }
                }
            } catch let error as ClientGone {
                throw error
            } catch {
                failure = ServerError.from(error)
            }
            var tail = failure.map { [f.error($0)] } ?? f.finish()
            tail.append("[DONE]")
            for chunk in tail { try await writer.write(frame(chunk)) }
            try await writer.finish(nil)
        })
    }

    /// A write to a closed connection.
    struct ClientGone: Error {}
}
