import Bench
import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// 64 concurrent streaming clients (HTTP/1.1 over SwiftNIO), every tenth hanging up mid-stream: the others finish
    /// correctly, the disconnected requests are aborted, and the KV cache returns to idle.
    @Suite struct ConcurrentStreamsServerTests {
        /// Thrown from a body callback to drop the connection mid-stream.
        struct HangUp: Error {}

        @Test func sixtyFourStreamsWithDisconnects() async throws {
            try await ServerFixture.withServer({ $0.maxRunningRequests = 64 }) { server in
                let before = await server.engine.stats()
                let url = try BenchURL(parsing: ServerFixture.url(server, "/generate"))
                let quitters = Set(stride(from: 0, to: 64, by: 10))
                let tokens = 8, quitterTokens = 400
                // 64 real HTTP/1.1 connections (SwiftNIO); a quitter closes its socket as soon as its first
                // SSE event has arrived.
                let bodies = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                    for i in 0..<64 {
                        let body = obj(
                            ("text", str("Request \(i): write a short line about the number \(i).")),
                            ("stream", .bool(true)),
                            ("sampling_params", obj(
                                ("max_new_tokens", num(quitters.contains(i) ? quitterTokens : tokens)),
                                ("temperature", .int(0)), ("ignore_eos", .bool(true)))))
                        group.addTask {
                            var received: [UInt8] = []
                            do {
                                _ = try await BenchHTTPClient().send(method: .POST, url: url,
                                                                     body: Array(body.serialized().utf8)) { chunk in
                                    received += chunk
                                    if quitters.contains(i), String(decoding: received, as: UTF8.self).contains("\n\n") {
                                        throw HangUp()
                                    }
                                }
                            } catch is HangUp {
                                return (i, [])
                            }
                            return (i, received)
                        }
                    }
                    var all: [Int: [UInt8]] = [:]
                    for try await (i, body) in group { all[i] = body }
                    return all
                }
                for i in 0..<64 where !quitters.contains(i) {
                    let body = bodies[i] ?? []
                    guard let events = sseEvents(body) else {
                        Issue.record("client \(i): bad stream \(String(decoding: body, as: UTF8.self).prefix(300))")
                        continue
                    }
                    let chunks = events.dropLast().compactMap { try? JSONValue.parse($0) }
                    #expect(chunks.count == events.count - 1, "client \(i): a chunk is not JSON")
                    let last = chunks.last
                    #expect(last?["meta_info"]?["completion_tokens"]?.intValue == tokens, "client \(i)")
                    #expect(last?["meta_info"]?["finish_reason"]?["type"]?.stringValue == "length", "client \(i)")
                    #expect(last?["output_ids"]?.arrayValue?.count == tokens, "client \(i)")
                    var previous = ""
                    for chunk in chunks {
                        let text = chunk["text"]?.stringValue ?? ""
                        #expect(text.hasPrefix(previous), "client \(i): text is not cumulative")
                        previous = text
                    }
                }
                try await expectIdleWithoutLeaks(server)
                let after = await server.engine.stats()
                // The 57 finished clients generated 8 tokens each; the quitters far fewer than their 400.
                let generated = after.generatedTokens - before.generatedTokens
                #expect(generated >= 57 * tokens)
                #expect(generated < 57 * tokens + quitters.count * quitterTokens / 2, "quitters were not aborted: \(generated)")
                #expect(after.finishedRequests - before.finishedRequests == 64)
            }
        }
    }
}
