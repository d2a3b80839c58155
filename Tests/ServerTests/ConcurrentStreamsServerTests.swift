import Foundation
import JSON
import Runtime
import Server
import Testing

extension ServerTests {
    /// 64 concurrent streaming clients (curl processes), every tenth hanging up mid-stream: the others finish
    /// correctly, the disconnected requests are aborted, and the KV cache returns to idle.
    @Suite struct ConcurrentStreamsServerTests {
        /// A curl process streaming one `/generate` request.
        final class StreamClient: @unchecked Sendable {
            let process = Process()
            let output = Pipe()
            var received = Data()

            init(url: String, body: JSONValue) throws {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["curl", "-sS", "-N", "--max-time", "300", "-H", "Content-Type: application/json",
                                     "--data-binary", body.serialized(), url]
                process.standardOutput = output
                process.standardError = FileHandle.nullDevice
                try process.run()
            }

            /// Reads until the first SSE event has arrived, then kills curl (the connection drops mid-stream).
            func hangUpAfterFirstEvent() {
                let handle = output.fileHandleForReading
                while !String(decoding: received, as: UTF8.self).contains("\n\n") {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    received.append(chunk)
                }
                process.terminate()
                process.waitUntilExit()
            }

            func readAll() -> Data {
                received.append(output.fileHandleForReading.readDataToEndOfFile())
                process.waitUntilExit()
                return received
            }
        }

        /// Runs blocking work on a thread of its own and awaits it without holding a cooperative thread.
        /// (Not Dispatch: 64 blocked Dispatch workers can starve the queue Foundation uses to notice that a
        /// child process exited, so `waitUntilExit` never returns.)
        static func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
            await withCheckedContinuation { c in
                let thread = Thread { c.resume(returning: work()) }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }

        @Test(.disabled("hangs: the disconnecting clients never see their first event; under investigation (issue 5)"))
        func sixtyFourStreamsWithDisconnects() async throws {
            try await ServerFixture.withServer({ $0.maxRunningRequests = 64 }) { server in
                let before = await server.engine.stats()
                let url = ServerFixture.url(server, "/generate")
                let quitters = Set(stride(from: 0, to: 64, by: 10))
                let tokens = 8, quitterTokens = 400
                var started: [StreamClient] = []
                for i in 0..<64 {
                    let body = obj(
                        ("text", str("Request \(i): write a short line about the number \(i).")),
                        ("stream", .bool(true)),
                        ("sampling_params", obj(
                            ("max_new_tokens", num(quitters.contains(i) ? quitterTokens : tokens)),
                            ("temperature", .int(0)), ("ignore_eos", .bool(true)))))
                    started.append(try StreamClient(url: url, body: body))
                }
                let clients = started
                // Hang up the quitters as soon as their first chunk arrives, concurrently with everyone else.
                // The pipes are read on Dispatch threads: blocking the two cooperative threads would starve the
                // in-process server.
                let bodies = await withTaskGroup(of: (Int, [UInt8]).self) { group in
                    for (i, client) in clients.enumerated() {
                        group.addTask {
                            await Self.offThePool {
                                if quitters.contains(i) {
                                    client.hangUpAfterFirstEvent()
                                    return (i, [])
                                }
                                return (i, [UInt8](client.readAll()))
                            }
                        }
                    }
                    var all: [Int: [UInt8]] = [:]
                    for await (i, body) in group { all[i] = body }
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
