import Foundation
import Grammar

/// A request inside the scheduler (SGLang's `Req`): its ids, sampling state, KV bookkeeping and output
/// stream. Owned by the scheduler thread.
final class ScheduledRequest {
    let rid: String
    let request: GenerateRequest
    let params: SamplingParams
    /// Every id whose KV the request needs for its next forward: the prompt, then the generated ids
    /// (jump-forward tokens included). One stored array, so the scheduler's hot paths slice instead of copying.
    private(set) var fillIds: [Int32]
    /// How many leading `fillIds` are the prompt.
    let promptLength: Int
    /// Tokens that were sampled (jump-forward tokens excluded).
    var sampledCount = 0
    var sampler: RequestSampler
    /// Ids that end the request (EOS + stop_token_ids; empty with ignore_eos).
    let stopIds: Set<Int>
    /// The log-normalizer of the row being sampled (output logprobs).
    var pendingLogZ = 0.0
    var outputText: RequestOutputText?
    var matcher: GrammarMatcher?
    let continuation: AsyncThrowingStream<GenerateOutput, any Error>.Continuation
    let arrival: Double
    let deadline: Double?
    /// The prompt's images (their features are computed at the first forward that needs them).
    var images: [RequestImage] = []

    // KV bookkeeping.
    /// Row in the ReqToTokenPool while admitted.
    var row: Int?
    /// Tokens whose KV is in the row (prefix from the cache + everything computed since). Under overlap scheduling
    /// it may run one past `fillIds`: the KV of a token drawn by a step the scheduler has not read yet.
    var kvLength = 0
    /// The request's row in the decode step launched ahead whose tokens the scheduler has not read (overlap
    /// scheduling); nil when no token of it is in flight.
    var carriedRow: Int?
    /// Leading slots of the row that belong to the radix tree (not freed by this request).
    var cachedPrefixLength = 0
    /// The radix node this request holds a lock on (nil while waiting).
    var lockedNode: RadixNode?
    /// Tokens this round's extend computes (set at admission).
    var extendLength = 0
    /// Prompt tokens served from the cache at the first admission.
    var cachedTokens = 0
    var retractions = 0
    /// The last match length seen by the scheduling policy (lpm ordering).
    var matchedLength = 0
    var matchedNode: RadixNode?

    // Logprobs.
    var inputTokenLogprobs: [LogprobEntry] = []
    var inputTopLogprobs: [[LogprobEntry]?] = []
    var outputTokenLogprobs: [LogprobEntry] = []
    var outputTopLogprobs: [[LogprobEntry]?] = []
    /// `token_ids_logprob`: the listed ids' entries per position (nil where there is no distribution).
    var inputTokenIdsLogprobs: [[LogprobEntry]?] = []
    var outputTokenIdsLogprobs: [[LogprobEntry]?] = []
    /// First prompt position whose logprob is reported (resolved from `logprob_start_len`); nil: none.
    var inputLogprobStart: Int?

    var finish: FinishReason?
    /// An embedding model's pooled result, set by the prefill that computes the last prompt token.
    var embedding: [Float]?
    /// Outputs emitted to the stream so far (stream interval bookkeeping).
    var lastEmittedCount = -1

    init(request: GenerateRequest, promptIds: [Int], params: SamplingParams, sampler: RequestSampler, stopIds: Set<Int>,
         outputText: RequestOutputText?, matcher: GrammarMatcher?,
         continuation: AsyncThrowingStream<GenerateOutput, any Error>.Continuation, now: Double) {
        rid = request.rid
        self.request = request
        self.params = params
        fillIds = promptIds.map { Int32($0) }
        promptLength = promptIds.count
        self.sampler = sampler
        self.stopIds = stopIds
        self.outputText = outputText
        self.matcher = matcher
        self.continuation = continuation
        arrival = now
        deadline = request.timeout.map { now + $0 }
        if request.returnLogprob {
            let start = request.logprobStartLen
            inputLogprobStart = start < 0 ? nil : min(start, promptIds.count)
        }
    }

    /// The prompt ids (indices from 0).
    var originIds: ArraySlice<Int32> { fillIds[..<promptLength] }
    /// Generated ids (indices from `promptLength`).
    var outputIds: ArraySlice<Int32> { fillIds[promptLength...] }
    /// Number of generated ids.
    var outputCount: Int { fillIds.count - promptLength }

    /// Appends a generated (or forced) id.
    func appendOutput(_ token: Int32) { fillIds.append(token) }

    /// Drops the last `count` generated ids (jump-forward rollback).
    func removeLastOutputs(_ count: Int) { fillIds.removeLast(min(count, outputCount)) }

    /// Total tokens (prompt + output).
    var sequenceLength: Int { fillIds.count }

    /// Output tokens still allowed.
    var remainingNewTokens: Int { max(0, params.maxNewTokens - outputCount) }

    /// The next prompt position whose logprob entry is missing.
    var nextInputLogprob: Int { (inputLogprobStart ?? 0) + inputTokenLogprobs.count }

    /// Whether prompt logprobs are still to be collected (the extend then produces logits for every token).
    var wantsInputLogprobs: Bool {
        inputLogprobStart != nil && nextInputLogprob < originIds.count
    }

    /// Whether no prompt logprob was collected yet (the cache match must then stop before the first one).
    var wantsInputLogprobsFromStart: Bool { wantsInputLogprobs && inputTokenLogprobs.isEmpty }
}
