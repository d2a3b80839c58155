import Foundation
import JSON
import Synchronization

/// The state of one running program (SGLang's `ProgramState` + `StreamExecutor`, spec §1.5–1.6).
///
/// `s += expr` queues an expression and returns at once; a worker task runs the queue in order against the
/// backend. Reading a variable (`try await s["name"]`) waits until the expression that produces it has run.
/// If an expression fails, the error is kept (`error()`), the rest of the queue is skipped, and every reader
/// is woken with `SGLangError.programFailed` instead of hanging.
public final class ProgramState: Sendable {
    enum Command: Sendable {
        case node(Node)
        case barrier(AsyncSignal)
        case end(AsyncSignal)
    }

    struct Pending {
        var signal = AsyncSignal()
        var count = 0
    }

    struct Subscriber {
        var variable: String?
        var continuation: AsyncStream<String>.Continuation
    }

    /// Everything the worker and readers share.
    struct Core {
        var text = ""
        var messages: [ChatMessage] = []
        var variables: [String: ProgramValue] = [:]
        var meta: [String: JSONObject] = [:]
        var pending: [String: Pending] = [:]
        var images: [ImageInput] = []
        var currentImages: [ImageInput] = []
        var currentRole: String?
        var roleBegin = 0
        var forkStart = 0
        var scopes: [String: Int] = [:]
        var error: (any Error)?
        /// `end()` was called (no more expressions); the worker may still be running the queue.
        var ended = false
        /// The worker finished and closed the streams: a new subscriber gets the text so far and nothing more.
        var streamsClosed = false
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
        var template: PromptTemplate?
        /// API speculative execution: generated text not yet consumed by gens and constant fills.
        var speculated = ""
        /// API speculative execution on a chat backend: the open assistant turn's recorded fills and gens.
        var chatTurn: ChatSpeculation?

        /// Appends text and tells the text subscribers.
        mutating func fill(_ piece: String) {
            guard !piece.isEmpty else { return }
            text += piece
            for s in subscribers.values where s.variable == nil { s.continuation.yield(piece) }
        }

        /// Appends constant text (text nodes, role affixes): it consumes matching speculated text, and any
        /// other text invalidates the speculation (spec §1.12).
        mutating func fillConstant(_ piece: String) {
            if !speculated.isEmpty {
                speculated = speculated.hasPrefix(piece) ? String(speculated.dropFirst(piece.count)) : ""
            }
            fill(piece)
        }

        /// Extends a variable being generated and tells its subscribers.
        mutating func extend(_ name: String, _ piece: String) {
            variables[name] = .string((variables[name]?.string ?? "") + piece)
            for s in subscribers.values where s.variable == name { s.continuation.yield(piece) }
        }

        mutating func set(_ name: String, _ value: ProgramValue) {
            variables[name] = value
        }

        /// Marks one producer of `name` done; wakes readers when it was the last one queued.
        mutating func resolve(_ name: String) {
            guard var p = pending[name] else { return }
            p.count -= 1
            if p.count <= 0 {
                pending[name] = nil
                p.signal.signal()
            } else {
                pending[name] = p
            }
        }

        func since(_ offset: Int) -> String {
            let utf8 = text.utf8
            let start = utf8.index(utf8.startIndex, offsetBy: min(offset, utf8.count))
            return String(text[start...])
        }

        mutating func roleBegin(_ role: String, template: PromptTemplate) throws {
            if let current = currentRole {
                throw SGLangError.invalidProgram("nested roles: \(role) begins inside \(current)")
            }
            if messages.isEmpty, role != "system", let system = template.defaultSystemPrompt, !system.isEmpty {
                try roleBegin("system", template: template)
                fillConstant(system)
                try roleEnd("system", template: template)
            }
            currentRole = role
            fillConstant(try template.affixes(role: role, history: messages).prefix)
            roleBegin = text.utf8.count
        }

        mutating func roleEnd(_ role: String, template: PromptTemplate) throws {
            guard currentRole == role else {
                throw SGLangError.invalidProgram(
                    "\(role) ends but \(currentRole.map { "\($0) is open" } ?? "no role is open")")
            }
            let content = since(roleBegin)
            fillConstant(try template.affixes(role: role, history: messages).suffix)
            let stripped = String(content.drop(while: { $0.isWhitespace }))
            messages.append(ChatMessage(role: role, content: stripped, images: currentImages))
            currentImages = []
            currentRole = nil
        }
    }

    let core = Mutex(Core())
    private let inbox: AsyncStream<Command>.Continuation
    /// The backend; nil only for a tracing state.
    let backend: (any Backend)?
    /// Run-level sampling defaults for every gen.
    public let defaults: SamplingParameters
    /// Whether gens stream their text as it is generated.
    public let isStreaming: Bool
    /// This program's id (forks get their own).
    public let programID: String
    let tracer: Tracer?
    /// API speculative execution budget (spec §1.12), nil when off.
    public let numAPISpecTokens: Int?

    /// A state on `backend` whose worker starts at once. Call `end()` when the program is done (`run` does).
    public convenience init(backend: any Backend, defaults: SamplingParameters = SamplingParameters(),
                            stream: Bool = false, numAPISpecTokens: Int? = nil) {
        self.init(backend: backend, defaults: defaults, stream: stream, core: Core(), tracer: nil,
                  numAPISpecTokens: numAPISpecTokens)
    }

    init(backend: (any Backend)?, defaults: SamplingParameters, stream: Bool, core initial: Core, tracer: Tracer?,
         numAPISpecTokens: Int? = nil) {
        self.numAPISpecTokens = numAPISpecTokens
        self.backend = backend
        self.defaults = defaults
        isStreaming = stream
        programID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        self.tracer = tracer
        core.withLock { $0 = initial }
        let (stream, continuation) = AsyncStream<Command>.makeStream()
        inbox = continuation
        guard tracer == nil, let backend else {
            continuation.finish()
            return
        }
        let ready = context()
        // The worker holds the state weakly between commands: a state dropped without `end()` closes its inbox
        // (deinit) and the worker ends instead of waiting forever.
        Task { [weak self] in
            await backend.beginProgram(ready)
            for await command in stream {
                guard let self else { return }
                switch command {
                case .node(let node):
                    await self.execute(node)
                case .barrier(let signal):
                    signal.signal()
                case .end(let signal):
                    await backend.endProgram(self.context())
                    self.finishStreams()
                    signal.signal()
                    return
                }
            }
        }
    }

    deinit {
        inbox.finish()
        let subscribers = core.withLock { c -> [Subscriber] in
            defer { c.subscribers = [:] }
            return Array(c.subscribers.values)
        }
        for s in subscribers { s.continuation.finish() }
    }

    // MARK: submitting

    /// Queues an expression (returns at once).
    public static func += (state: ProgramState, expr: Expr) { state.submit(expr) }
    /// Queues constant text.
    public static func += (state: ProgramState, text: String) { state.submit(Expr(text)) }

    /// Queues an expression (returns at once).
    public func submit(_ expr: Expr) {
        if let tracer {
            tracer.record(expr.nodes, state: self)
            return
        }
        for node in expr.nodes {
            if let name = node.createdVariable {
                core.withLock { c in
                    guard c.error == nil, !c.ended else { return }
                    c.pending[name, default: Pending()].count += 1
                }
            }
            inbox.yield(.node(node))
        }
    }

    // MARK: reading

    /// The value of a variable, awaiting the expression that produces it (a gathered fork variable reads as its
    /// elements joined; use `list(_:)` for them).
    /// - Throws: `SGLangError.programFailed` when the program failed first, `.invalidProgram` for an unknown name.
    public subscript(name: String) -> String {
        get async throws { try await value(name).string }
    }

    /// The value of a variable (a list after a fork's `gatherVariable` join).
    public func value(_ name: String) async throws -> ProgramValue {
        if tracer != nil { throw Tracer.Stop() }
        while true {
            enum Step { case wait(AsyncSignal), value(ProgramValue), failed(any Error), unknown }
            let step: Step = core.withLock { c in
                if let p = c.pending[name] { return .wait(p.signal) }
                if let v = c.variables[name] { return .value(v) }
                if let e = c.error { return .failed(e) }
                return .unknown
            }
            switch step {
            case .wait(let signal): await signal.wait()
            case .value(let v): return v
            case .failed(let e): throw SGLangError.programFailed("variable '\(name)' was not produced: \(e)")
            case .unknown: throw SGLangError.invalidProgram("the program has no variable named '\(name)'")
            }
        }
    }

    /// A gathered variable's elements, in child order.
    public func list(_ name: String) async throws -> [String] { try await value(name).list }

    /// A variable parsed as an integer (surrounding whitespace ignored).
    /// - Throws: `SGLangError.invalidProgram` when it is not one.
    public func int(_ name: String) async throws -> Int {
        let s = try await self[name]
        guard let v = Int(s.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SGLangError.invalidProgram("variable '\(name)' is not an integer: \(s.debugDescription)")
        }
        return v
    }

    /// A variable parsed as a floating-point number.
    public func double(_ name: String) async throws -> Double {
        let s = try await self[name]
        guard let v = Double(s.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw SGLangError.invalidProgram("variable '\(name)' is not a number: \(s.debugDescription)")
        }
        return v
    }

    /// A variable parsed as a Boolean (`True` / `False`, as the bool dtype generates, or `true` / `false`).
    public func bool(_ name: String) async throws -> Bool {
        let s = try await self[name].trimmingCharacters(in: .whitespacesAndNewlines)
        switch s {
        case "True", "true": return true
        case "False", "false": return false
        default: throw SGLangError.invalidProgram("variable '\(name)' is not a Boolean: \(s.debugDescription)")
        }
    }

    /// A variable parsed as JSON.
    public func json(_ name: String) async throws -> JSONValue {
        let s = try await self[name]
        do { return try JSONValue.parse(s) } catch {
            throw SGLangError.invalidProgram("variable '\(name)' is not JSON (\(error)): \(s.debugDescription)")
        }
    }

    /// A variable decoded from JSON into a Swift type.
    public func decode<T: Decodable>(_ name: String, as type: T.Type) async throws -> T {
        let s = try await self[name]
        do { return try JSONDecoder().decode(T.self, from: Data(s.utf8)) } catch {
            throw SGLangError.invalidProgram("variable '\(name)' does not decode as \(T.self): \(error)")
        }
    }

    /// Sets a variable directly (SGLang's `s["name"] = value`).
    public func setVariable(_ name: String, _ value: String) {
        core.withLock { $0.variables[name] = .string(value) }
    }

    /// Whether a variable exists or is being produced.
    public func contains(_ name: String) -> Bool {
        core.withLock { $0.variables[name] != nil || $0.pending[name] != nil }
    }

    /// The backend's meta info for a variable (for `select`: the choices' scores), after it is produced.
    public func metaInfo(_ name: String) async throws -> JSONObject? {
        _ = try await value(name)
        return core.withLock { $0.meta[name] }
    }

    /// Waits until every queued expression has run.
    public func sync() async {
        guard tracer == nil else { return }
        let signal = AsyncSignal()
        let open = core.withLock { !$0.ended }
        guard open else { return }
        inbox.yield(.barrier(signal))
        await signal.wait()
    }

    /// The whole text, after the queue drained.
    public func text() async -> String {
        await sync()
        return core.withLock { $0.text }
    }

    /// The chat messages, after the queue drained.
    public func messages() async -> [ChatMessage] {
        await sync()
        return core.withLock { $0.messages }
    }

    /// The error that stopped the program (after the queue drained), or nil.
    public func error() async -> (any Error)? {
        await sync()
        return core.withLock { $0.error }
    }

    /// Every variable produced so far, after the queue drained.
    public func variables() async -> [String: ProgramValue] {
        await sync()
        return core.withLock { $0.variables }
    }

    /// New text as it is appended (the text so far first), or only one variable's text; ends with the program.
    /// Run with `stream: true` to see gens token by token; otherwise each gen arrives in one piece.
    public func textStream(variable: String? = nil) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let id: Int? = core.withLock { c in
            let head = variable.map { c.variables[$0]?.string ?? "" } ?? c.text
            if !head.isEmpty { continuation.yield(head) }
            // Not `ended`: that is set when the program stops queueing, while its gens may still be streaming.
            if c.streamsClosed { return nil }
            let id = c.nextSubscriber
            c.nextSubscriber += 1
            c.subscribers[id] = Subscriber(variable: variable, continuation: continuation)
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.core.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends the program: the worker finishes the queue, calls the backend's `endProgram` and closes the streams.
    public func end() async {
        guard tracer == nil else { return }
        let signal = AsyncSignal()
        let first = core.withLock { c -> Bool in
            if c.ended { return false }
            c.ended = true
            return true
        }
        guard first else {
            await sync()
            return
        }
        inbox.yield(.end(signal))
        inbox.finish()
        await signal.wait()
    }

    /// Records an error raised by the program's own code (the body of a `SGLFunction`).
    func record(_ error: any Error) {
        fail(error)
    }

    // MARK: structured helpers

    /// Runs `body` inside a `role` message (`with s.user(): ...`).
    public func role(_ name: String, _ body: () async throws -> Void) async rethrows {
        submit(Expr([.roleBegin(name)]))
        try await body()
        submit(Expr([.roleEnd(name)]))
    }

    /// Runs `body` inside a system message.
    public func system(_ body: () async throws -> Void) async rethrows { try await role("system", body) }
    /// Runs `body` inside a user message.
    public func user(_ body: () async throws -> Void) async rethrows { try await role("user", body) }
    /// Runs `body` inside an assistant message.
    public func assistant(_ body: () async throws -> Void) async rethrows { try await role("assistant", body) }

    /// The text appended while `body` runs becomes variable `name` (SGLang's `var_scope`).
    public func varScope(_ name: String, _ body: () async throws -> Void) async rethrows {
        submit(Expr([.varScopeBegin(name)]))
        try await body()
        submit(Expr([.varScopeEnd(name)]))
    }

    // MARK: worker

    func context() -> ProgramContext {
        core.withLock { ProgramContext(programID: programID, text: $0.text, messages: $0.messages, images: $0.images) }
    }

    private func fail(_ error: any Error) {
        let signals = core.withLock { c -> [AsyncSignal] in
            if c.error == nil { c.error = error }
            defer { c.pending = [:] }
            return c.pending.values.map(\.signal)
        }
        for s in signals { s.signal() }
    }

    private func finishStreams() {
        let subs = core.withLock { c -> [Subscriber] in
            defer { c.subscribers = [:] }
            c.streamsClosed = true
            return Array(c.subscribers.values)
        }
        for s in subs { s.continuation.finish() }
    }

    func template() async throws -> PromptTemplate {
        if let t = core.withLock({ $0.template }) { return t }
        guard let backend else { throw SGLangError.invalidProgram("the state has no backend") }
        let t = try await backend.chatTemplate()
        core.withLock { $0.template = t }
        return t
    }

    private func execute(_ node: Node) async {
        guard core.withLock({ $0.error == nil }), let backend else { return }
        do {
            try await run(node, backend)
        } catch {
            fail(error)
        }
    }

    private func run(_ node: Node, _ backend: any Backend) async throws {
        switch node {
        case .text(let t):
            core.withLock { c in
                if c.chatTurn != nil { c.chatTurn?.addFill(t) } else { c.fillConstant(t) }
            }
        case .gen(let g):
            let template = try await template()
            let params = g.overrides.resolve(defaults, templateStops: template.stopStrings)
            if let budget = numAPISpecTokens {
                guard !isStreaming else {
                    throw SGLangError.invalidProgram("streaming cannot be combined with numAPISpecTokens")
                }
                if backend.isChatModel {
                    // Recorded now, generated with the whole assistant turn when it ends (spec §1.12).
                    try core.withLock { c in
                        guard c.chatTurn != nil else {
                            throw SGLangError.invalidProgram(
                                "with numAPISpecTokens on a chat model, gens must be inside an assistant role")
                        }
                        try c.chatTurn?.addGen(g.name, params)
                    }
                    return
                }
                let (text, meta) = try await speculativeGen(params, budget: budget, backend)
                core.withLock { c in
                    c.fill(text)
                    if let name = g.name {
                        c.set(name, .string(text))
                        c.meta[name] = meta
                        c.resolve(name)
                    }
                }
            } else if isStreaming {
                if let name = g.name { core.withLock { $0.set(name, .string("")) } }
                var last = JSONObject()
                for try await piece in backend.generateStream(context(), params) {
                    core.withLock { c in
                        c.fill(piece.text)
                        if let name = g.name { c.extend(name, piece.text) }
                    }
                    last = piece.meta
                }
                if let name = g.name { core.withLock { $0.meta[name] = last; $0.resolve(name) } }
            } else {
                let out = try await backend.generate(context(), params)
                core.withLock { c in
                    c.fill(out.text)
                    if let name = g.name {
                        c.set(name, .string(out.text))
                        c.meta[name] = out.meta
                        c.resolve(name)
                    }
                }
            }
        case .select(let s):
            guard !s.choices.isEmpty else { throw SGLangError.invalidProgram("select needs at least one choice") }
            let decision = try await backend.select(context(), choices: s.choices, temperature: s.temperature,
                                                    method: s.method)
            core.withLock { c in
                c.fill(decision.decision)
                if let name = s.name {
                    c.set(name, .string(decision.decision))
                    c.meta[name] = decision.meta
                    c.resolve(name)
                }
            }
        case .image(let source):
            let input = try ImageInput(source)
            let token = try await template().imageToken
            core.withLock { c in
                c.fill(token)
                c.images.append(input)
                c.currentImages.append(input)
            }
        case .roleBegin(let role):
            let template = try await template()
            let speculate = role == "assistant" && backend.isChatModel && backend is any ChatSpeculativeBackend
            try core.withLock { c in
                try c.roleBegin(role, template: template)
                if speculate, let budget = numAPISpecTokens { c.chatTurn = ChatSpeculation(maxTokens: budget) }
            }
        case .roleEnd(let role):
            let template = try await template()
            if role == "assistant", let turn = core.withLock({ $0.chatTurn }) {
                core.withLock { $0.chatTurn = nil }
                if !turn.isEmpty, let chat = backend as? any ChatSpeculativeBackend {
                    let outcome = try await chat.speculateAssistantTurn(context(), turn)
                    core.withLock { c in
                        c.fill(outcome.text)
                        for part in turn.parts {
                            guard case .gen(let name?, _) = part else { continue }
                            c.set(name, .string(outcome.variables[name] ?? ""))
                            c.meta[name] = JSONObject()
                            c.resolve(name)
                        }
                    }
                }
            }
            try core.withLock { try $0.roleEnd(role, template: template) }
        case .varScopeBegin(let name):
            core.withLock { $0.scopes[name] = $0.text.utf8.count }
        case .varScopeEnd(let name):
            try core.withLock { c in
                guard let start = c.scopes.removeValue(forKey: name) else {
                    throw SGLangError.invalidProgram("var scope '\(name)' ends but never began")
                }
                c.set(name, .string(c.since(start)))
                c.resolve(name)
            }
        case .commitLazy:
            try await backend.commitLazyOperations(context())
        case .concatenate(let children):
            for child in children {
                await child.sync()
                if let e = child.core.withLock({ $0.error }) { throw e }
                let piece = child.core.withLock { $0.since($0.forkStart) }
                core.withLock { $0.fillConstant(piece) }
            }
        }
    }

    /// SGLang's `_spec_gen` for completion backends: when nothing is speculated, generate
    /// max(maxNewTokens, budget) tokens without stop strings once; each gen then takes the speculated text up to
    /// its first stop string (or maxNewTokens characters), leaving the rest for the following fills and gens.
    private func speculativeGen(_ params: SamplingParameters, budget: Int,
                                _ backend: any Backend) async throws -> (String, JSONObject) {
        var speculated = core.withLock { $0.speculated }
        var meta = JSONObject()
        if speculated.isEmpty {
            var p = params
            p.maxNewTokens = max(p.maxNewTokens, budget)
            p.stop = []
            let out = try await backend.generate(context(), p)
            speculated = out.text
            meta = out.meta
        }
        let stopAt = params.stop.compactMap { speculated.range(of: $0)?.lowerBound }.min()
        let cut = stopAt ?? speculated.index(speculated.startIndex, offsetBy: min(params.maxNewTokens, speculated.count))
        let taken = String(speculated[..<cut])
        let rest = String(speculated[cut...])
        core.withLock { $0.speculated = rest }
        return (taken, meta)
    }
}
