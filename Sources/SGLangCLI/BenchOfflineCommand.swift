import ArgumentParser
import Bench
import Foundation
import Runtime

/// `sglang bench-offline`: SGLang's offline throughput benchmark (spec §8.3) over the in-process engine.
struct BenchOfflineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-offline",
        abstract: "Submit a whole dataset to the in-process engine at once and report its throughput."
    )

    @Option(name: .long, help: "A Hugging Face model folder or a .gguf file.")
    var modelPath: String

    @Option(name: .long, help: "auto (the model's weights) or dummy (seeded random weights).")
    var loadFormat: String = "auto"

    @Option(name: .long, help: "Context length (default: the model's).")
    var contextLength: Int?

    @Option(name: .long, help: "KV cache size in tokens.")
    var maxTotalTokens: Int?

    @Option(name: .long, help: "Fraction of memory for the KV cache when --max-total-tokens is not given.")
    var memFractionStatic: Double?

    @Option(name: .long, help: "Most requests running at once.")
    var maxRunningRequests: Int?

    @Option(name: .long, help: "Longest prefill chunk in tokens (≤ 0 disables chunking).")
    var chunkedPrefillSize: Int = 8192

    @Option(name: .long, help: "Most new prompt tokens in one prefill batch.")
    var maxPrefillTokens: Int = 16384

    @Option(name: .long, help: "lpm, fcfs, dfs-weight, lof or random.")
    var schedulePolicy: String = "lpm"

    @Flag(name: .long, help: "Turn the radix prefix cache off.")
    var disableRadixCache = false

    @Flag(name: .long, help: "Run decode requests inside prefill batches.")
    var enableMixedChunk = false

    @Flag(name: .long, help: "Turn overlap scheduling off.")
    var disableOverlapSchedule = false

    @Option(name: .long, help: "The engine's random seed (and the dummy weights' seed).")
    var randomSeed: UInt64 = 42

    @OptionGroup var data: BenchDatasetArguments

    @OptionGroup var deviceOptions: DeviceOptions

    @Flag(name: .long, help: "Let requests stop at EOS (by default they run to their output length).")
    var disableIgnoreEos = false

    @Flag(name: .long, help: "Skip the warm-up requests.")
    var skipWarmup = false

    @Option(name: .long, help: "Append one JSONL record per run to this file.")
    var resultFilename: String = ""

    @Flag(name: .long, help: "Run the dataset twice in this process, radix cache on then off, and print the ratio.")
    var compareRadixCache = false

    @Option(name: .long, help: "Sampling temperature of the measured requests (0: greedy).")
    var temperature = 0.0
    @Option(name: .long, help: "top_p of the measured requests.")
    var topP = 1.0
    @Option(name: .long, help: "top_k of the measured requests (-1: the whole vocabulary).")
    var topK = -1
    @Option(name: .long, help: "min_p of the measured requests.")
    var minP = 0.0

    func validate() throws {
        if LoadFormat(rawValue: loadFormat) == nil { throw ValidationError("--load-format must be auto or dummy") }
        if SchedulePolicy(rawValue: schedulePolicy) == nil {
            let names = SchedulePolicy.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--schedule-policy must be one of \(names)")
        }
        do { try data.options().validate() } catch { throw ValidationError("\(error)") }
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
    }

    var sampling: SamplingParams { SamplingParams(temperature: temperature, topP: topP, topK: topK, minP: minP) }

    func run() async throws {
        do {
            let loaded = try ModelLoader.load(
                path: modelPath, loadFormat: LoadFormat(rawValue: loadFormat) ?? .auto, seed: randomSeed,
                device: try deviceOptions.selection())
            print("model: \(loaded.config.family), \(loaded.config.numHiddenLayers) layers, on \(loaded.model.deviceName)")
            let engineOptions = EngineOptions(
                contextLength: contextLength, maxTotalTokens: maxTotalTokens, memFractionStatic: memFractionStatic,
                maxRunningRequests: maxRunningRequests, chunkedPrefillSize: chunkedPrefillSize,
                maxPrefillTokens: maxPrefillTokens, schedulePolicy: SchedulePolicy(rawValue: schedulePolicy) ?? .lpm,
                disableRadixCache: disableRadixCache, enableMixedChunk: enableMixedChunk,
                disableOverlapSchedule: disableOverlapSchedule, randomSeed: randomSeed)
            var runner = OfflineBenchmarkRunner(engineOptions: engineOptions, dataset: try data.options())
            runner.skipWarmup = skipWarmup
            runner.disableIgnoreEOS = disableIgnoreEos
            runner.resultFilename = resultFilename
            runner.compareRadixCache = compareRadixCache
            runner.sampling = sampling
            _ = try await runner.run(model: loaded) { line in
                print(line)
                fflush(nil)
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// The dataset flags shared by `bench-offline` and `bench-serving` (SGLang's names and defaults).
struct BenchDatasetArguments: ParsableArguments {
    @Option(name: .long, help: "random, generated-shared-prefix or sharegpt.")
    var datasetName: String = "sharegpt"

    @Option(name: .long, help: "A ShareGPT-format JSON file (needed for sharegpt; nothing is downloaded).")
    var datasetPath: String = ""

    @Option(name: .long, help: "Number of prompts (random, sharegpt).")
    var numPrompts: Int = 1000

    @Option(name: .long, help: "Fixed output length for ShareGPT rows.")
    var sharegptOutputLen: Int?

    @Option(name: .long, help: "Drop ShareGPT rows longer than this (prompt + output tokens).")
    var sharegptContextLen: Int?

    @Option(name: .long, help: "Random dataset: input length.")
    var randomInputLen: Int = 1024

    @Option(name: .long, help: "Random dataset: output length.")
    var randomOutputLen: Int = 1024

    @Option(name: .long, help: "Random dataset: lengths are uniform in [max(len·ratio, 1), len].")
    var randomRangeRatio: Double = 0

    @Option(name: .long, help: "Shared-prefix dataset: number of groups.")
    var gspNumGroups: Int = 64

    @Option(name: .long, help: "Shared-prefix dataset: prompts per group.")
    var gspPromptsPerGroup: Int = 16

    @Option(name: .long, help: "Shared-prefix dataset: system prompt length in tokens.")
    var gspSystemPromptLen: Int = 2048

    @Option(name: .long, help: "Shared-prefix dataset: question length in tokens.")
    var gspQuestionLen: Int = 128

    @Option(name: .long, help: "Shared-prefix dataset: output length.")
    var gspOutputLen: Int = 256

    @Option(name: .long, help: "Seed of the dataset (and of the arrival times).")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Send token ids instead of text (exact prompt lengths).")
    var tokenizePrompt = false

    /// The flags as `BenchDatasetOptions`.
    func options() throws -> BenchDatasetOptions {
        guard let name = BenchDatasetName(rawValue: datasetName) else {
            let names = BenchDatasetName.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--dataset-name must be one of \(names)")
        }
        var o = BenchDatasetOptions()
        o.name = name
        o.path = datasetPath.isEmpty ? nil : datasetPath
        o.numPrompts = numPrompts
        o.sharegptOutputLen = sharegptOutputLen
        o.sharegptContextLen = sharegptContextLen
        o.randomInputLen = randomInputLen
        o.randomOutputLen = randomOutputLen
        o.randomRangeRatio = randomRangeRatio
        o.gspNumGroups = gspNumGroups
        o.gspPromptsPerGroup = gspPromptsPerGroup
        o.gspSystemPromptLen = gspSystemPromptLen
        o.gspQuestionLen = gspQuestionLen
        o.gspOutputLen = gspOutputLen
        o.seed = seed
        o.tokenizePrompt = tokenizePrompt
        return o
    }
}
