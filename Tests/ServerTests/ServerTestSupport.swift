import Foundation
import JSON
import Runtime
import Server
import Testing

/// The repository, the SmolLM2 model, servers on free ports, and real HTTP clients (curl, the `openai`
/// Python package) for the server tests.
enum ServerFixture {
    /// …/Tests/ServerTests/ServerTestSupport.swift → three levels up.
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static var smolLM2Path: String { repoRoot.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path }

    /// SmolLM2 loaded once for every server test.
    static let smolLM2: Result<LoadedModel, any Error> = Result {
        guard FileManager.default.fileExists(atPath: smolLM2Path) else {
            throw Failure("missing \(smolLM2Path) (run `bash scripts/fetch-smollm2.sh`)")
        }
        return try ModelLoader.load(path: smolLM2Path)
    }

    static func model() throws -> LoadedModel {
        do { return try smolLM2.get() } catch {
            Issue.record("cannot load SmolLM2: \(error)")
            throw error
        }
    }

    /// Starts a server on 127.0.0.1 and a free port with a small KV cache; `configure` adjusts the arguments.
    /// `modelPath` and `loaded` serve another model than SmolLM2.
    static func start(modelPath: String? = nil, loaded: LoadedModel? = nil,
                      _ configure: (inout ServerArguments) -> Void = { _ in }) async throws -> SGLangServer {
        var args = ServerArguments(modelPath: modelPath ?? smolLM2Path)
        args.port = 0
        args.maxTotalTokens = 8192
        args.randomSeed = 7
        args.logLevel = "warning"
        configure(&args)
        let server = try SGLangServer(arguments: args, model: try loaded ?? model())
        try await server.start()
        return server
    }

    static func url(_ server: SGLangServer, _ path: String) -> String {
        "http://127.0.0.1:\(server.port ?? 0)\(path)"
    }
}

/// An HTTP exchange made with the curl command-line client.
struct CurlResult {
    var status: Int
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { try? JSONValue.parse(bytes: body) }
}

enum Curl {
    /// Runs curl; the body goes through stdin, so any bytes (bad UTF-8, megabytes) can be sent.
    static func request(_ url: String, method: String = "POST", body: [UInt8]? = nil,
                        headers: [String] = ["Content-Type: application/json"], extra: [String] = []) async throws -> CurlResult {
        var args = ["curl", "-sS", "-N", "-X", method, "--max-time", "120", "-o", "-", "-w", "\n%{http_code}"]
        for h in headers { args += ["-H", h] }
        if body != nil { args += ["--data-binary", "@-"] }
        let finished = try await ChildProcess.run(args + extra + [url], stdin: body)
        var bytes = finished.stdout
        guard let nl = bytes.lastIndex(of: UInt8(ascii: "\n")),
              let status = Int(String(decoding: bytes[(nl + 1)...], as: UTF8.self)) else {
            throw ServerFixture.Failure("curl gave no status for \(method) \(url) (exit \(finished.status)): "
                                        + String(decoding: finished.stderr, as: UTF8.self))
        }
        bytes.removeSubrange(nl...)
        return CurlResult(status: status, body: bytes)
    }

    static func post(_ url: String, json: JSONValue, headers: [String] = ["Content-Type: application/json"]) async throws -> CurlResult {
        try await request(url, body: Array(json.serialized().utf8), headers: headers)
    }

    static func get(_ url: String, headers: [String] = []) async throws -> CurlResult {
        try await request(url, method: "GET", headers: headers)
    }
}

/// Builds JSON values tersely in tests.
func obj(_ pairs: (String, JSONValue)...) -> JSONValue { .object(JSONObject(pairs)) }
func str(_ s: String) -> JSONValue { .string(s) }
func num(_ i: Int) -> JSONValue { .int(i) }
func ids(_ list: [Int]) -> JSONValue { .array(list.map(JSONValue.int)) }

/// Parses an SSE body framed exactly as `data: <payload>\n\n` … `data: [DONE]\n\n`; nil when any byte is off.
func sseEvents(_ body: [UInt8]) -> [String]? {
    let text = String(decoding: body, as: UTF8.self)
    guard text.hasSuffix("data: [DONE]\n\n") else { return nil }
    var events: [String] = []
    var rest = Substring(text)
    while !rest.isEmpty {
        guard rest.hasPrefix("data: "), let end = rest.range(of: "\n\n") else { return nil }
        let payload = rest[rest.index(rest.startIndex, offsetBy: 6)..<end.lowerBound]
        guard !payload.contains("\n") else { return nil }
        events.append(String(payload))
        rest = rest[end.upperBound...]
    }
    guard events.last == "[DONE]", events.dropLast().allSatisfy({ $0 != "[DONE]" }) else { return nil }
    return events
}

extension ServerFixture {
    /// Runs `body` against a fresh server and always stops it.
    static func withServer(modelPath: String? = nil, loaded: LoadedModel? = nil,
                           _ configure: (inout ServerArguments) -> Void = { _ in },
                           _ body: (SGLangServer) async throws -> Void) async throws {
        let server = try await start(modelPath: modelPath, loaded: loaded, configure)
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
