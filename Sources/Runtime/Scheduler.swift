import Compute
import Foundation
import Models

/// What other threads ask of the scheduler.
enum SchedulerCommand: @unchecked Sendable {
    // @unchecked: a ScheduledRequest is handed over once and only the scheduler thread touches it afterwards.
    case add(ScheduledRequest)
    case abort(rid: String, message: String)
    case abortAll
    case flushCache(CheckedContinuation<Bool, Never>)
    case stats(CheckedContinuation<EngineStats, Never>)
    case checkMemory(CheckedContinuation<String?, Never>)
    case shutdown
}

/// The scheduler loop (SGLang's `Scheduler`, spec §7.4-§7.8): admits waiting requests by the memory budget
/// (prefill first, chunked when long), decodes the running batch, retracts on KV exhaustion, and feeds the
/// radix cache. Every field is touched only by the scheduler thread, except the inbox.
final class Scheduler: @unchecked Sendable {
    // @unchecked: `inbox` is guarded by `condition`; everything else belongs to the scheduler thread.
    let model: LoadedModel
    let options: EngineOptions
    let contextLength: Int
    let maxRunningRequests: Int
    let kvPool: TokenToKVPool
    let reqPool: ReqToTokenPool
    let tree: RadixCache
    let vocabSize: Int
    let chunkSize: Int
    /// SGLang's new-token ratio bounds (HEAD constants).
    let initialTokenRatio: Double
    let minTokenRatio: Double
    let tokenRatioDecay: Double
    static let outputReserveClip = 4096
    static let retractDecodeSteps = 20

    private let condition = NSCondition()
    private var inbox: [SchedulerCommand] = []

    var waiting: [ScheduledRequest] = []
    var running: [ScheduledRequest] = []
    /// The request whose prompt is being prefilled in chunks (not in `running` until its last chunk).
    var inflight: ScheduledRequest?
    var byRid: [String: ScheduledRequest] = [:]
    var stats = EngineStats()
    var newTokenRatio: Double
    var stopped = false
    var randomOrder = SplitMix64(seed: 0x5eed)
    /// The decode step launched ahead whose tokens are not read yet (overlap scheduling).
    var pending: PendingDecode?
    /// Whether decode steps are launched ahead (the model can, and `--disable-overlap-schedule` is off).
    let overlapSchedule: Bool
    /// Reused by `sampleAndAppend`: one logits row, one grammar mask.
    var sampleScratch: [Float] = []
    var maskScratch: [UInt32] = []

    init(model: LoadedModel, options: EngineOptions, maxTotalTokens: Int, maxRunningRequests: Int, contextLength: Int) throws {
        self.model = model
        self.options = options
        self.contextLength = contextLength
        self.maxRunningRequests = maxRunningRequests
        kvPool = try model.model.makeKVPool(size: maxTotalTokens + 1)
        reqPool = ReqToTokenPool(maxRequests: maxRunningRequests + 1, maxContext: contextLength + 8)
        tree = RadixCache(pool: kvPool, disabled: options.disableRadixCache)
        vocabSize = model.config.vocabSize
        chunkSize = (options.chunkedPrefillSize ?? 0) > 0 ? (options.chunkedPrefillSize ?? 0) : Int.max
        initialTokenRatio = min(0.7 * options.scheduleConservativeness, 1)
        minTokenRatio = initialTokenRatio * 0.14
        tokenRatioDecay = (initialTokenRatio - minTokenRatio) / 600
        newTokenRatio = initialTokenRatio
        stats.maxTotalTokens = maxTotalTokens
        overlapSchedule = model.model.launchesAhead && !options.disableOverlapSchedule
    }

    /// Seconds on a monotonic clock.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Hands a command to the scheduler thread (wakes it when idle).
    func send(_ command: SchedulerCommand) {
        condition.lock()
        inbox.append(command)
        condition.signal()
        condition.unlock()
    }

    private func takeCommands(wait: Bool) -> [SchedulerCommand] {
        condition.lock()
        defer { condition.unlock() }
        if wait {
            // Idle: sleep until a command arrives (a timed wait also bounds how late a deadline is noticed).
            while inbox.isEmpty { _ = condition.wait(until: Date(timeIntervalSinceNow: 1)) }
        }
        let taken = inbox
        inbox.removeAll(keepingCapacity: true)
        return taken
    }

    /// The loop; returns after `.shutdown`.
    func run() {
        while !stopped {
            let idle = running.isEmpty && waiting.isEmpty && inflight == nil && pending == nil
            if idle {
                newTokenRatio = initialTokenRatio
                if let problem = memoryProblem() {
                    FileHandle.standardError.write(Data("[scheduler] memory check failed when idle: \(problem)\n".utf8))
                }
            }
            for command in takeCommands(wait: idle) { handle(command) }
            if stopped { break }
            expireDeadlines()
            step()
        }
        for req in Array(byRid.values) { abortRequest(req, message: "the engine shut down", statusCode: 503) }
    }

    /// One scheduling step: a prefill batch when one can be formed, otherwise a decode step.
    func step() {
        guard !(running.isEmpty && waiting.isEmpty && inflight == nil && pending == nil) else { return }
        do {
            if pending != nil && (running.isEmpty || (options.enableMixedChunk && (!waiting.isEmpty || inflight != nil))) {
                // Nothing to launch behind it, or a prefill batch may take the running requests' next tokens.
                try drainPending()
            }
            if let batch = formPrefillBatch() {
                // Prefills run synchronously: the step in flight is read first (its finished requests free memory).
                try drainPending()
                try runExtend(batch)
            } else if !running.isEmpty {
                if overlapSchedule {
                    try runDecodeAhead()
                } else {
                    try runDecode()
                }
            } else if !waiting.isEmpty && inflight == nil {
                // Nothing runs and the queue head cannot be admitted: it can never fit.
                rejectUnfittable()
            }
        } catch {
            // A compute failure ends the requests of this step, never the engine.
            pending = nil
            let victims = running + (inflight.map { [$0] } ?? [])
            for req in victims { abortRequest(req, message: "internal error: \(error)", statusCode: 500) }
        }
    }

    func handle(_ command: SchedulerCommand) {
        switch command {
        case .add(let req):
            if byRid[req.rid] != nil {
                req.continuation.finish(throwing: RuntimeError.invalidInput("request id \(req.rid) is already in use"))
                return
            }
            byRid[req.rid] = req
            waiting.append(req)
        case .abort(let rid, let message):
            if let req = byRid[rid] { abortRequest(req, message: message, statusCode: 499) }
        case .abortAll:
            for req in Array(byRid.values) { abortRequest(req, message: "aborted by request", statusCode: 499) }
        case .flushCache(let c):
            if byRid.isEmpty {
                c.resume(returning: tree.reset())
            } else {
                c.resume(returning: false)
            }
        case .stats(let c):
            c.resume(returning: snapshot())
        case .checkMemory(let c):
            c.resume(returning: byRid.isEmpty ? memoryProblem() : nil)
        case .shutdown:
            stopped = true
        }
    }

    func snapshot() -> EngineStats {
        var s = stats
        s.runningRequests = running.count + (inflight == nil ? 0 : 1)
        s.waitingRequests = waiting.count
        s.availableTokens = kvPool.available
        s.evictableTokens = tree.evictableSize
        s.protectedTokens = tree.protectedSize
        s.newTokenRatio = newTokenRatio
        return s
    }

    /// When idle: every KV slot free or held by the cache, every request row free.
    func memoryProblem() -> String? {
        if let problem = tree.checkIdleInvariant() { return problem }
        if reqPool.available != reqPool.maxRequests {
            return "\(reqPool.maxRequests - reqPool.available) request rows are still taken"
        }
        return nil
    }

    func expireDeadlines() {
        let now = Self.now()
        for req in Array(byRid.values) {
            if let deadline = req.deadline, now > deadline {
                abortRequest(req, message: "the request timed out after \(req.request.timeout ?? 0) s", statusCode: 408)
            }
        }
    }

    /// Ends a request wherever it is, releasing its KV; the stream gets a final abort output.
    func abortRequest(_ req: ScheduledRequest, message: String, statusCode: Int) {
        guard req.finish == nil else { return }
        req.finish = .abort(message: message, statusCode: statusCode)
        waiting.removeAll { $0 === req }
        running.removeAll { $0 === req }
        if inflight === req { inflight = nil }
        releaseFinished(req)
        emit(req, final: true)
    }

    /// The head of the queue needs more KV than the pool has even when empty: fail it with a clear error.
    func rejectUnfittable() {
        guard let req = orderedWaiting().first else { return }
        waiting.removeAll { $0 === req }
        let need = req.fillIds.count
        req.finish = .abort(
            message: "the request needs \(need) KV tokens but the cache holds \(kvPool.size - 1); raise --max-total-tokens",
            statusCode: 400)
        byRid[req.rid] = nil
        emit(req, final: true)
    }
}
