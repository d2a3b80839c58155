import Compute
import Foundation
import Models
@testable import Runtime
import Testing

/// Overlap scheduling (spec §7.13) through the real tiny llama wrapped as a device that launches decode steps ahead:
/// the scheduler reads step N−1's tokens after launching step N, whose inputs drawn by N−1 are carried on the
/// "device". Every request must come out as from the synchronous scheduler, with the KV accounting intact.
@Suite struct OverlapScheduleTests {
    typealias DeviceModel = DeviceSelectionTests.DeviceModel

    static func engine(ahead: Bool, disable: Bool = false) throws -> (DeviceModel, Engine) {
        let loaded = try ModelLoader.load(path: try RuntimeFixtures.shared("tiny/llama"))
        guard let cpu = loaded.model as? CausalLM else { throw RuntimeError.invalidInput("not a CPU model") }
        let device = DeviceModel(cpu, samples: true, ahead: ahead)
        let wrapped = LoadedModel(config: loaded.config, model: device, generationConfig: loaded.generationConfig,
                                  tokenizer: loaded.tokenizer)
        let options = EngineOptions(maxTotalTokens: 2000, maxRunningRequests: 16, disableOverlapSchedule: disable)
        return (device, try Engine(model: wrapped, options: options))
    }

    static func outputs(_ engine: Engine, _ requests: [GenerateRequest]) async throws -> [String: GenerateOutput] {
        try await withThrowingTaskGroup(of: GenerateOutput.self) { group in
            for r in requests { group.addTask { try await EngineTests.final(engine, r) } }
            var all: [String: GenerateOutput] = [:]
            for try await out in group { all[out.rid] = out }
            return all
        }
    }

    /// Greedy and seeded requests (whose draws must use the step after the one in flight), a stop token met early
    /// (the token already launched behind it is dropped), a request that reaches max_new_tokens, and requests the
    /// overlap cannot launch ahead (penalties, min_new_tokens about to unmask, logprobs) in one batch: the tokens,
    /// finish reasons and logprobs equal the synchronous scheduler's, steps were launched ahead with carried inputs,
    /// and once idle every KV slot is free or cached.
    @Test func overlapGivesTheSynchronousOutputs() async throws {
        let (syncDevice, sync) = try Self.engine(ahead: true, disable: true)
        let (device, overlap) = try Self.engine(ahead: true)
        defer {
            sync.shutdown()
            overlap.shutdown()
        }
        let prompts: [[Int]] = [[1, 5, 9, 200, 31], [7, 7, 7], [400, 3, 2, 1, 0, 99, 12], [11, 22, 33, 44]]
        // A stop id the greedy output of prompt 0 meets at its fifth token.
        let probe = try await EngineTests.final(sync, GenerateRequest(
            rid: "probe", prompt: .ids(prompts[0]), sampling: SamplingParams(maxNewTokens: 12, temperature: 0, ignoreEOS: true)))
        let stopId = probe.outputIds[4]
        let params: [SamplingParams] = [
            SamplingParams(maxNewTokens: 12, temperature: 0, ignoreEOS: true),
            SamplingParams(maxNewTokens: 20, temperature: 0.8, topP: 0.9, topK: 40, ignoreEOS: true, seed: 5),
            SamplingParams(maxNewTokens: 30, stopTokenIds: [stopId], temperature: 0),
            SamplingParams(maxNewTokens: 9, temperature: 1.1, minP: 0.02, ignoreEOS: true, seed: 77),
            SamplingParams(maxNewTokens: 14, temperature: 0.7, frequencyPenalty: 0.6, ignoreEOS: true, seed: 3),
            SamplingParams(maxNewTokens: 16, minNewTokens: 6, stopTokenIds: [stopId], temperature: 0,
                           logitBias: [stopId: 30]),
        ]
        var requests: [GenerateRequest] = []
        for (k, p) in params.enumerated() {
            for (i, prompt) in prompts.enumerated() {
                requests.append(GenerateRequest(rid: "p\(k)-\(i)", prompt: .ids(i == 0 ? prompts[0] : prompt), sampling: p))
            }
        }
        requests.append(GenerateRequest(rid: "logprobs", prompt: .ids(prompts[2]),
                                        sampling: SamplingParams(maxNewTokens: 10, temperature: 0.9, ignoreEOS: true, seed: 9),
                                        returnLogprob: true, topLogprobsNum: 2))
        let expected = try await Self.outputs(sync, requests)
        let got = try await Self.outputs(overlap, requests)
        #expect(got.count == requests.count)
        for r in requests {
            guard let a = expected[r.rid], let b = got[r.rid] else {
                Issue.record("\(r.rid) missing")
                continue
            }
            #expect(a.outputIds == b.outputIds, "\(r.rid): \(a.outputIds) vs \(b.outputIds)")
            #expect(a.finishReason == b.finishReason, "\(r.rid): \(String(describing: a.finishReason)) vs \(String(describing: b.finishReason))")
            #expect(a.outputTokenLogprobs?.map(\.id) == b.outputTokenLogprobs?.map(\.id))
        }
        // The stop id ended prompt 0's stop request by its fifth token (trimmed from the output), with the next one
        // already launched.
        #expect((got["p2-0"]?.outputIds.count ?? 99) <= 4 && got["p2-0"]?.finishReason == .matchedToken(stopId))
        // How many steps of this mixed batch launch ahead depends on when each request joins; all are read (the last
        // one perhaps just after the outputs).
        let unread = device.launches.withLock { $0.results.count }
        #expect(unread <= 1, "\(unread) launched steps were never read")
        #expect(syncDevice.launches.withLock { $0.count } == 0, "--disable-overlap-schedule launched steps ahead")
        // Without the requests that need their tokens first, every decode step but the ones after a prefill (which
        // has nothing in flight to carry from) is launched ahead.
        let before = (await overlap.stats(), device.launches.withLock { $0.count })
        let plain = requests.filter { $0.rid.hasPrefix("p0") || $0.rid.hasPrefix("p1") || $0.rid.hasPrefix("p2") }
        let again = try await Self.outputs(overlap, plain.map {
            var r = $0
            r.rid += "-again"
            return r
        })
        for r in plain { #expect(again[r.rid + "-again"]?.outputIds == expected[r.rid]?.outputIds) }
        let after = (await overlap.stats(), device.launches.withLock { ($0.count, $0.carried) })
        let steps = after.0.decodeSteps - before.0.decodeSteps, ahead = after.1.0 - before.1
        #expect(ahead == steps && ahead >= 19, "\(ahead) of \(steps) decode steps launched ahead")
        #expect(await overlap.checkMemory() == nil)
        let stats = await overlap.stats()
        #expect(stats.availableTokens + stats.evictableTokens == stats.maxTotalTokens)
    }

    /// A request aborted while a token of its is in flight ends with an abort; the slot of its unread token goes
    /// back to the pool, and a request that runs next to it is unaffected.
    @Test func abortsInFlightFreeTheirSlots() async throws {
        let (device, engine) = try Self.engine(ahead: true)
        defer { engine.shutdown() }
        let long = SamplingParams(maxNewTokens: 200, temperature: 0, ignoreEOS: true)
        let neighbour = GenerateRequest(rid: "neighbour", prompt: .ids([5, 6, 7]),
                                        sampling: SamplingParams(maxNewTokens: 40, temperature: 0, ignoreEOS: true))
        // The abort arrives while the scheduler is inside the 10th launch: it is handled right after, with the
        // victim's tokens of the 9th and 10th steps unread.
        device.pauseAt.withLock { $0 = 10 }
        let victim = Task {
            try await EngineTests.run(engine, GenerateRequest(rid: "victim", prompt: .ids([1, 2, 3, 4]), sampling: long))
        }
        async let kept = EngineTests.final(engine, neighbour)
        let paused = await Task.detached { device.reached.wait(timeout: .now() + 120) == .success }.value
        #expect(paused, "the 10th launch never came")
        engine.abort(rid: "victim")
        device.resume.signal()
        let chunks = try await victim.value
        let seen = chunks.last?.outputIds.count ?? 0
        if case .abort = chunks.last?.finishReason {} else {
            Issue.record("victim finished with \(String(describing: chunks.last?.finishReason))")
        }
        #expect(seen >= 5 && seen < 200, "\(seen) tokens")
        let k = try await kept
        #expect(k.outputIds.count == 40)
        let (syncDevice, sync) = try Self.engine(ahead: false)
        defer { sync.shutdown() }
        let reference = try await EngineTests.final(sync, neighbour)
        #expect(k.outputIds == reference.outputIds)
        #expect(syncDevice.launches.withLock { $0.count } == 0)
        #expect(device.launches.withLock { $0.count } > 0)
        #expect(await engine.checkMemory() == nil)
    }
}
