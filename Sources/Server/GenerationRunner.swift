import NIOCore
import Runtime
import Synchronization

/// One cumulative output of sample `index` (prompt-major: prompt p, sample j → p × n + j).
struct RunEvent: Sendable {
    var index: Int
    var output: GenerateOutput
}

/// A running set of requests: their merged outputs, and a way to abort them all.
final class RunHandle: Sendable {
    let events: AsyncThrowingStream<RunEvent, any Error>
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(events: AsyncThrowingStream<RunEvent, any Error>) { self.events = events }

    func attach(_ t: Task<Void, Never>) { task.withLock { $0 = t } }

    /// Aborts every request of the run (their streams are cancelled, which aborts them in the engine).
    func cancel() { task.withLock { $0?.cancel() } }
}

/// Validates, tokenizes and runs API requests on the engine: shared by the native and the OpenAI routes.
struct GenerationRunner: Sendable {
    let engine: Engine

    /// Validates one prompt and expands it into its samples.
    /// - Throws: `ServerError` (400) naming the problem: the engine's validation, or a prompt plus token
    ///   limit beyond the context.
    func prepare(_ item: PromptItem) throws -> PreparedParallelRequest {
        var base = item.request
        let n = base.sampling.n
        base.sampling.n = 1
        do {
            let ids = try engine.promptIds(for: base)
            base.prompt = .ids(ids)
            let room = engine.contextLength - engine.paddedPromptLength(ids, imageCount: base.imageData.count)
            if item.maxTokensExplicit {
                if base.sampling.maxNewTokens > room {
                    let (sum, overflow) = ids.count.addingReportingOverflow(base.sampling.maxNewTokens)
                    throw ServerError.badRequest(
                        "Requested token count exceeds the model's maximum context length of \(engine.contextLength) "
                            + "tokens. You requested a total of \(overflow ? Int.max : sum) tokens: "
                            + "\(ids.count) tokens from the input messages and \(base.sampling.maxNewTokens) tokens "
                            + "for the completion. Please reduce the number of tokens in the input messages or the "
                            + "completion to fit within the limit.")
                }
            } else {
                base.sampling.maxNewTokens = min(base.sampling.maxNewTokens, max(0, room))
                base.sampling.minNewTokens = min(base.sampling.minNewTokens, base.sampling.maxNewTokens)
            }
            base.sampling.n = n
            return try engine.prepareParallel(base)
        } catch {
            throw ServerError.from(error)
        }
    }

    /// Starts every sample of `prompts` (each prompt's warm-up first) and merges their outputs.
    func run(_ prompts: [PreparedParallelRequest]) -> RunHandle {
        let (stream, continuation) = AsyncThrowingStream<RunEvent, any Error>.makeStream()
        let handle = RunHandle(events: stream)
        let engine = self.engine
        var offsets: [Int] = []
        var total = 0
        for p in prompts {
            offsets.append(total)
            total += p.samples.count
        }
        let starts = offsets
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (p, prompt) in prompts.enumerated() {
                        group.addTask {
                            if let warm = prompt.warm {
                                for try await _ in engine.generate(warm) {}
                            }
                            try await withThrowingTaskGroup(of: Void.self) { inner in
                                for (j, sample) in prompt.samples.enumerated() {
                                    inner.addTask {
                                        for try await out in engine.generate(sample) {
                                            continuation.yield(RunEvent(index: starts[p] + j, output: out))
                                        }
                                    }
                                }
                                try await inner.waitForAll()
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        handle.attach(task)
        continuation.onTermination = { _ in task.cancel() }
        return handle
    }

    /// Waits for the final output of every sample. A client that disconnects (`channel` inactive) aborts the
    /// run.
    /// - Throws: `ServerError`: 499 when the client went away, the engine's errors otherwise.
    func collect(_ prompts: [PreparedParallelRequest], channel: (any Channel)?) async throws -> [GenerateOutput] {
        let count = prompts.reduce(0) { $0 + $1.samples.count }
        let handle = run(prompts)
        let watcher = Self.watch(channel, handle)
        defer { watcher?.cancel() }
        var finals = [GenerateOutput?](repeating: nil, count: count)
        do {
            for try await event in handle.events where event.output.isFinished {
                finals[event.index] = event.output
            }
        } catch {
            throw ServerError.from(error)
        }
        let done = finals.compactMap { $0 }
        guard done.count == count else { throw ServerError(status: 499, "the client disconnected") }
        return done
    }

    /// Polls the connection; when the client has gone, cancels the run (which aborts its requests).
    static func watch(_ channel: (any Channel)?, _ handle: RunHandle) -> Task<Void, Never>? {
        guard let channel else { return nil }
        return Task {
            while channel.isActive {
                do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
            }
            handle.cancel()
        }
    }
}
