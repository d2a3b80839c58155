import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Logging
import NIOCore
import Runtime
import ServiceLifecycle
import UnixSignals
import Synchronization
import Tokenizers

/// `sglang serve`: SGLang's native API and the OpenAI API over one `Engine`, on Hummingbird.
///
/// `start()` binds the port (0: any free one, reported back), warms the engine up with one short generation
/// and logs SGLang's ready line; `stop()` ends it. `/health` answers 503 until the warm-up is done.
public final class SGLangServer: Sendable {
    /// The settings the server was started with.
    public let arguments: ServerArguments
    /// The engine requests run on.
    public let engine: Engine
    /// The model served.
    public let model: LoadedModel
    /// The resolved random seed.
    public let seed: UInt64
    let runner: GenerationRunner
    let chat: ChatPromptBuilder
    let defaults: SamplingDefaults
    let metrics: Metrics?
    let log: ServerLog
    let startTime = Date()
    private let readyFlag = Atomic<Bool>(false)
    private let state = Mutex<RunState>(RunState())

    private struct RunState: Sendable {
        var group: ServiceGroup?
        var task: Task<Void, any Error>?
        var port: Int?
    }

    /// A server over an already loaded model (tests share one model between servers).
    /// - Throws: `ServerError` for invalid arguments or chat template, the engine's errors for options that
    ///   leave no KV cache.
    public init(arguments: ServerArguments, model: LoadedModel) throws {
        try arguments.validate()
        self.arguments = arguments
        self.model = model
        seed = arguments.randomSeed ?? UInt64.random(in: 0..<(1 << 30))
        engine = try Engine(model: model, options: arguments.engineOptions(seed: seed))
        runner = GenerationRunner(engine: engine)
        chat = try ChatPromptBuilder.resolve(arguments.chatTemplate, tokenizer: model.tokenizer)
        defaults = SamplingDefaults(model.generationConfig)
        metrics = arguments.enableMetrics ? Metrics(modelName: arguments.modelName) : nil
        log = ServerLog(arguments.logLevel)
    }

    /// Loads `arguments.modelPath` (and `--tokenizer-path`), showing progress on stderr, then builds the server.
    public static func load(_ arguments: ServerArguments) throws -> SGLangServer {
        try arguments.validate()
        let log = ServerLog(arguments.logLevel)
        log.info("Load weight begin. model_path=\(arguments.modelPath)")
        let began = Date()
        let progress = ProgressTicker(label: "Loading \((arguments.modelPath as NSString).lastPathComponent)")
        progress.start()
        let loaded: LoadedModel
        do {
            loaded = try ModelLoader.load(path: arguments.modelPath, loadFormat: try arguments.parsedLoadFormat(),
                                          device: try arguments.deviceSelection(), isEmbedding: arguments.isEmbedding)
            progress.stop(success: true)
        } catch {
            progress.stop(success: false)
            throw error
        }
        var model = loaded
        if let tokPath = arguments.tokenizerPath, tokPath != arguments.modelPath {
            model = loaded.replacingTokenizer(try Tokenizer.load(from: tokPath))
        }
        log.info(String(format: "Load weight end. elapsed=%.2f s, type=%@, layers=%d, vocab=%d, device=%@",
                        Date().timeIntervalSince(began), loaded.config.modelType, loaded.config.numHiddenLayers,
                        loaded.config.vocabSize, loaded.model.deviceName))
        let server = try SGLangServer(arguments: arguments, model: model)
        log.info("KV cache: max_total_num_tokens=\(server.engine.maxTotalTokens), max_running_requests="
                 + "\(server.engine.maxRunningRequests), context_len=\(server.engine.contextLength)")
        return server
    }

    /// Whether the warm-up finished (`/health` is 200).
    public var isReady: Bool { readyFlag.load(ordering: .acquiring) }

    /// The bound port once started.
    public var port: Int? { state.withLock { $0.port } }

    /// Binds, warms up and logs the ready line; returns the bound port.
    /// - Parameter signals: signals that stop the server gracefully (the CLI passes SIGINT and SIGTERM).
    /// - Throws: the bind error (e.g. the port is taken), or the warm-up's failure.
    @discardableResult
    public func start(signals: [UnixSignal] = []) async throws -> Int {
        var logger = Logger(label: "sglang.http")
        logger.logLevel = log.level == .debug ? .debug : .warning
        let (portStream, portContinuation) = AsyncThrowingStream<Int, any Error>.makeStream()
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(arguments.host, port: arguments.port), serverName: "sglang-swift"),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: signals, logger: logger))
        let task = Task {
            do {
                try await group.run()
                portContinuation.finish()
            } catch {
                portContinuation.finish(throwing: error)
                throw error
            }
        }
        state.withLock {
            $0.group = group
            $0.task = task
        }
        var bound: Int?
        for try await p in portStream {
            bound = p
            break
        }
        guard let port = bound else { throw ServerError(status: 500, "the HTTP server stopped before it bound \(arguments.host):\(arguments.port)") }
        state.withLock { $0.port = port }
        try await warmUp()
        readyFlag.store(true, ordering: .releasing)
        log.info("The server is fired up and ready to roll! URL: http://\(arguments.host):\(port)")
        return port
    }

    /// Waits until the server stops (a signal passed to `start`, or `stop()`).
    public func wait() async throws {
        let task = state.withLock { $0.task }
        try await task?.value
    }

    /// Stops accepting requests, aborts the running ones and shuts the engine down.
    public func stop() async {
        let (group, task) = state.withLock { ($0.group, $0.task) }
        engine.abortAll()
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
        engine.shutdown()
        readyFlag.store(false, ordering: .releasing)
    }

    /// One short greedy generation (an embedding on an embedding model), so the first client does not pay for lazy
    /// initialization.
    func warmUp() async throws {
        let prompt: PromptInput = model.tokenizer == nil ? .ids([0, 1]) : .text("The capital city of France is")
        if engine.isEmbedding {
            let began = Date()
            let out = try await engine.encode(EmbeddingRequest(rid: "WARMUP_" + GenerateRequestParser.newRid(), prompt: prompt))
            if case .abort(let message, _)? = out.finishReason {
                throw ServerError(status: 500, "the warm-up embedding failed: \(message)")
            }
            log.info(String(format: "Warm-up done in %.2f s: an embedding of %d values", Date().timeIntervalSince(began),
                            out.embedding?.count ?? 0))
            return
        }
        let request = GenerateRequest(
            rid: "WARMUP_" + GenerateRequestParser.newRid(), prompt: prompt,
            sampling: SamplingParams(maxNewTokens: 4, temperature: 0))
        let began = Date()
        var last: GenerateOutput?
        for try await out in engine.generate(request) { last = out }
        if case .abort(let message, _)? = last?.finishReason {
            throw ServerError(status: 500, "the warm-up generation failed: \(message)")
        }
        log.info(String(format: "Warm-up done in %.2f s: %@", Date().timeIntervalSince(began), last?.text.debugDescription ?? "\"\""))
    }

    // MARK: routing

    func makeRouter() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ErrorMiddleware())
        if let key = arguments.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
        addNativeRoutes(to: router)
        addOpenAIRoutes(to: router)
        addEmbeddingRoutes(to: router)
        return router
    }

    /// Reads the body as JSON: 413 beyond `--max-request-body-bytes`, 400 for bad UTF-8 or bad JSON.
    func readJSON(_ request: Request) async throws -> JSONValue {
        let limit = arguments.maxRequestBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw ServerError(status: 413, "the request body (\(length) bytes) is larger than the limit of \(limit) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ServerError(status: 413, "the request body is larger than the limit of \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.isEmpty else { throw ServerError.badRequest("the request body is empty; send a JSON object") }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ServerError.badRequest("the request body is not valid UTF-8")
        }
        do {
            return try JSONValue.parse(bytes: bytes)
        } catch let e as JSONParseError {
            throw ServerError.badRequest("the request body is not valid JSON: \(e.description)")
        }
    }

    /// A JSON response.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(.compact))))
    }

    /// A plain-text response.
    static func text(_ s: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: s)))
    }

    func logRequest(_ path: String, _ body: JSONValue) {
        guard arguments.logRequests else { return }
        let text = body.serialized(.compact)
        log.info("Receive: \(path) \(text.count > 2000 ? String(text.prefix(2000)) + "…" : text)")
    }

    func logFinished(_ outputs: [GenerateOutput]) {
        guard arguments.logRequests else { return }
        for o in outputs {
            log.info("Finish: id=\(o.rid) prompt_tokens=\(o.promptTokens) completion_tokens=\(o.completionTokens) "
                     + "finish=\(o.finishReason.map { "\($0)" } ?? "none") text=\(o.text.debugDescription)")
        }
    }
}

/// A one-line progress indicator on stderr while a long synchronous step runs (model loading).
final class ProgressTicker: Sendable {
    private let label: String
    private let running = Atomic<Bool>(false)
    private let began = Date()

    init(label: String) { self.label = label }

    func start() {
        running.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            let frames = ["|", "/", "-", "\\"]
            var i = 0
            while running.load(ordering: .acquiring) {
                let line = String(format: "\r%@ %@ %.1f s", label, frames[i % 4], Date().timeIntervalSince(began))
                FileHandle.standardError.write(Data(line.utf8))
                i += 1
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        thread.start()
    }

    func stop(success: Bool) {
        running.store(false, ordering: .releasing)
        Thread.sleep(forTimeInterval: 0.25)
        let line = String(format: "\r%@ %@ %.1f s\n", label, success ? "done" : "failed", Date().timeIntervalSince(began))
        FileHandle.standardError.write(Data(line.utf8))
    }
}
