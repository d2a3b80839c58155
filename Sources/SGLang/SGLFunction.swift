import Foundation
import Synchronization

/// An SGLang program: a Swift closure over a `ProgramState` and typed arguments (SGLang's `@function`).
///
/// ```swift
/// let qa = SGLFunction<String> { s, question in
///     s += user(question)
///     s += assistant(gen("answer", maxTokens: 32))
/// }
/// let state = try await qa.run("What is the capital of France?", backend: backend)
/// print(try await state["answer"])
/// ```
public struct SGLFunction<Arguments: Sendable>: Sendable {
    /// The program body.
    public typealias Body = @Sendable (ProgramState, Arguments) async throws -> Void

    let body: Body
    /// SGLang's API speculative execution budget (spec §1.12): the first gen generates at least this many
    /// tokens without stop strings, and later gens and constant text consume that speculation.
    public var numAPISpecTokens: Int?

    /// A program.
    public init(numAPISpecTokens: Int? = nil, _ body: @escaping Body) {
        self.body = body
        self.numAPISpecTokens = numAPISpecTokens
    }

    /// Calls this program inside another one, on the caller's state.
    public func callAsFunction(_ state: ProgramState, _ arguments: Arguments) async throws {
        try await body(state, arguments)
    }

    /// Pre-binds the arguments from other ones (SGLang's `bind`): `f.bind { (q: String) in Args(q, topic) }`.
    public func bind<Other: Sendable>(_ transform: @escaping @Sendable (Other) -> Arguments) -> SGLFunction<Other> {
        let body = self.body
        return SGLFunction<Other> { s, other in try await body(s, transform(other)) }
    }

    /// Binds every argument.
    public func bind(_ arguments: Arguments) -> SGLFunction<Void> {
        let body = self.body
        return SGLFunction<Void> { s, _ in try await body(s, arguments) }
    }

    static func resolve(_ backend: (any Backend)?) throws -> any Backend {
        guard let b = backend ?? defaultBackend() else {
            throw SGLangError.invalidProgram("no backend: pass one to run or call setDefaultBackend first")
        }
        return b
    }

    /// Runs the program. Without `stream` it returns when the program finished (errors are on the state's
    /// `error()`); with `stream` it returns at once and the body runs concurrently (read `textStream()`).
    /// - Throws: `SGLangError.invalidProgram` only when there is no backend.
    public func run(_ arguments: Arguments, defaults: SamplingParameters = SamplingParameters(),
                    stream: Bool = false, backend: (any Backend)? = nil) async throws -> ProgramState {
        let state = ProgramState(backend: try Self.resolve(backend), defaults: defaults, stream: stream,
                                 numAPISpecTokens: numAPISpecTokens)
        let body = self.body
        if stream {
            Task {
                do { try await body(state, arguments) } catch { state.record(error) }
                await state.end()
            }
        } else {
            do { try await body(state, arguments) } catch { state.record(error) }
            await state.end()
        }
        return state
    }

    /// Runs the program once per argument value, `concurrency` at a time (default: SGLang's
    /// `max(96, cores × 16)` capped at the batch size), returning the states in input order. Before a batch of
    /// more than one, the program's constant prefix (found by tracing, spec §1.14: the common leading text of two
    /// traced elements) is put in the backend's cache when it is longer than 64 characters. A progress bar goes
    /// to stderr when asked.
    /// - Throws: `SGLangError.invalidProgram` only when there is no backend or `concurrency` < 1.
    public func runBatch(_ batch: [Arguments], defaults: SamplingParameters = SamplingParameters(),
                         concurrency: Int? = nil, progressBar: Bool = false,
                         backend: (any Backend)? = nil) async throws -> [ProgramState] {
        let backend = try Self.resolve(backend)
        guard !batch.isEmpty else { return [] }
        let limit = concurrency ?? min(batch.count, max(96, ProcessInfo.processInfo.activeProcessorCount * 16))
        guard limit >= 1 else { throw SGLangError.invalidProgram("concurrency must be ≥ 1, found \(limit)") }
        if batch.count > 1 {
            try await precache(batch, backend: backend)
        }
        let progress = progressBar ? ProgressBar(total: batch.count) : nil
        var states = [ProgramState?](repeating: nil, count: batch.count)
        try await withThrowingTaskGroup(of: (Int, ProgramState).self) { group in
            var next = 0
            func launch() {
                let i = next
                let args = batch[i]
                next += 1
                group.addTask { (i, try await self.run(args, defaults: defaults, backend: backend)) }
            }
            while next < min(limit, batch.count) { launch() }
            while let (i, state) = try await group.next() {
                states[i] = state
                progress?.advance()
                if next < batch.count { launch() }
            }
        }
        progress?.finish()
        return states.compactMap { $0 }
    }

    /// The constant prefix shared by the batch's programs, or "" (the leading text of two traced elements).
    public func tracedPrefix(_ batch: [Arguments], backend: any Backend) async throws -> String {
        guard let first = batch.first else { return "" }
        let template = try await backend.chatTemplate()
        let a = await Tracer.prefix(of: self, arguments: first, template: template)
        guard batch.count > 1 else { return a }
        let b = await Tracer.prefix(of: self, arguments: batch[batch.count - 1], template: template)
        return String(zip(a, b).prefix(while: { $0 == $1 }).map(\.0))
    }

    private func precache(_ batch: [Arguments], backend: any Backend) async throws {
        let prefix = try await tracedPrefix(batch, backend: backend)
        if prefix.count > 64 { try await backend.cachePrefix(prefix) }
    }
}

extension SGLFunction where Arguments == Void {
    /// A program without arguments.
    public init(numAPISpecTokens: Int? = nil, _ body: @escaping @Sendable (ProgramState) async throws -> Void) {
        self.init(numAPISpecTokens: numAPISpecTokens) { s, _ in try await body(s) }
    }

    /// Runs a program without arguments.
    public func run(defaults: SamplingParameters = SamplingParameters(), stream: Bool = false,
                    backend: (any Backend)? = nil) async throws -> ProgramState {
        try await run((), defaults: defaults, stream: stream, backend: backend)
    }
}

/// A text progress bar on stderr (`runBatch(progressBar: true)`).
final class ProgressBar: Sendable {
    private let total: Int
    private let done = Mutex(0)

    init(total: Int) {
        self.total = total
        draw(0)
    }

    func advance() { draw(done.withLock { $0 += 1; return $0 }) }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }

    private func draw(_ n: Int) {
        let width = 30
        let filled = total == 0 ? width : n * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(n)/\(total)".utf8))
    }
}
