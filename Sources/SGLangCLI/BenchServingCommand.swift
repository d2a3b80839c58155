import ArgumentParser
import Bench
import Foundation
import JSON
import Tokenizers

/// `sglang bench-serving`: SGLang's online serving benchmark client (spec §8.2).
struct BenchServingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-serving",
        abstract: "Send a dataset to a running server at a given request rate and report latency and throughput."
    )

    @Option(name: .long, help: "sglang (native /generate), sglang-native, sglang-oai or sglang-oai-chat.")
    var backend: String = "sglang"

    @Option(name: .long, help: "Server URL (http://host:port); overrides --host and --port.")
    var baseUrl: String?

    @Option(name: .long, help: "Server host.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Server port.")
    var port: Int = 30000

    @Option(name: .long, help: "Model name for the OpenAI APIs (default: the first of /v1/models).")
    var model: String?

    @Option(name: .long, help: "Tokenizer (a model folder, tokenizer.json folder or .gguf) for prompts and counts.")
    var tokenizer: String?

    @OptionGroup var data: BenchDatasetArguments

    @Option(name: .long, help: "Requests per second (Poisson arrivals); inf sends everything at once.")
    var requestRate: String = "inf"

    @Option(name: .long, help: "Most requests in flight.")
    var maxConcurrency: Int?

    @Flag(name: .long, help: "Ask for whole responses instead of streams (TTFT = latency).")
    var disableStream = false

    @Flag(name: .long, help: "Let requests stop at EOS.")
    var disableIgnoreEos = false

    @Option(name: .long, help: "A JSON object merged into every request body.")
    var extraRequestBody: String?

    @Option(name: .long, help: "Warm-up requests before the measured run.")
    var warmupRequests: Int = 1

    @Flag(name: .long, help: "POST /flush_cache after the warm-up.")
    var flushCache = false

    @Option(name: .long, help: "Append the JSONL record to this file.")
    var outputFile: String?

    @Flag(name: .long, help: "Add per-request lists (input/output lengths, TTFTs, ITLs, texts, errors) to the record.")
    var outputDetails = false

    func validate() throws {
        if ServingBackend(rawValue: backend) == nil {
            throw ValidationError("--backend must be one of \(ServingBackend.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let rate = Self.rate(requestRate), rate > 0 else {
            throw ValidationError("--request-rate must be a positive number or inf, found \(requestRate)")
        }
        _ = rate
        if let c = maxConcurrency, c < 1 { throw ValidationError("--max-concurrency must be ≥ 1") }
        if warmupRequests < 0 { throw ValidationError("--warmup-requests must be ≥ 0") }
        if let url = baseUrl { do { _ = try BenchURL(parsing: url) } catch { throw ValidationError("\(error)") } }
        do { try data.options().validate() } catch { throw ValidationError("\(error)") }
    }

    static func rate(_ text: String) -> Double? {
        text.lowercased() == "inf" ? .infinity : Double(text)
    }

    func run() async throws {
        do {
            var options = ServingBenchmarkOptions()
            options.backend = ServingBackend(rawValue: backend) ?? .sglang
            options.baseURL = try baseUrl.map { try BenchURL(parsing: $0) } ?? BenchURL(host: host, port: port)
            options.model = model
            options.requestRate = Self.rate(requestRate) ?? .infinity
            options.maxConcurrency = maxConcurrency
            options.disableStream = disableStream
            options.disableIgnoreEOS = disableIgnoreEos
            options.warmupRequests = warmupRequests
            options.flushCache = flushCache
            let dataset = try data.options()
            options.seed = dataset.seed
            options.apiKey = ProcessInfo.processInfo.environment["OPENAI_API_KEY"]
            if let extra = extraRequestBody {
                guard let object = try JSONValue.parse(extra).objectValue else {
                    throw ValidationError("--extra-request-body must be a JSON object")
                }
                options.extraRequestBody = object
            }
            guard let path = tokenizer ?? model.flatMap({ FileManager.default.fileExists(atPath: $0) ? $0 : nil }) else {
                throw ValidationError("bench-serving needs --tokenizer (a model folder or .gguf) to build prompts and count tokens")
            }
            let tok = try Tokenizer.load(from: path)
            let rows = try BenchDatasetBuilder(tokenizer: tok, vocabSize: tok.vocabSize).build(dataset)
            print("#Input tokens: \(rows.reduce(0) { $0 + $1.promptLen })")
            print("#Output tokens: \(rows.reduce(0) { $0 + $1.outputLen })")
            let bench = ServingBenchmark(options: options)
            let result = try await bench.run(rows: rows, retokenize: { tok.encode($0, addSpecialTokens: false).count })
            for line in result.summaryLines { print(line) }
            if let failed = result.results.first(where: { !$0.success }) {
                print("\(result.results.count - result.metrics.completed) request(s) failed; first error: \(failed.error)")
            }
            let file = outputFile ?? Self.defaultOutputFile(backend: backend, dataset: dataset, count: rows.count)
            let extra: [(String, JSONValue)] = [
                ("dataset_name", .string(dataset.name.rawValue)),
                ("random_input_len", .int(dataset.randomInputLen)),
                ("random_output_len", .int(dataset.randomOutputLen)),
                ("random_range_ratio", .double(dataset.randomRangeRatio)),
                ("sharegpt_output_len", dataset.sharegptOutputLen.map { .int($0) } ?? .null),
            ]
            var record = result.json(extra: extra).objectValue ?? JSONObject()
            if outputDetails {
                let rs = result.results
                record["input_lens"] = .array(rs.map { .int($0.promptLen) })
                record["output_lens"] = .array(rs.map { .int($0.success ? $0.outputLen : 0) })
                record["ttfts"] = .array(rs.map { .double($0.ttft) })
                record["itls"] = .array(rs.map { .array($0.itl.map { .double($0) }) })
                record["generated_texts"] = .array(rs.map { .string($0.generatedText) })
                record["errors"] = .array(rs.map { .string($0.error) })
            }
            try BenchReport.appendLine(JSONValue.object(record).serialized(.python()), to: file)
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// SGLang's default name: `<backend>_<MMDD>_<n>_<in>_<out>.jsonl` (random) or `..._sharegpt.jsonl`.
    static func defaultOutputFile(backend: String, dataset: BenchDatasetOptions, count: Int) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "MMdd"
        let day = formatter.string(from: Date())
        if dataset.name == .random {
            return "\(backend)_\(day)_\(count)_\(dataset.randomInputLen)_\(dataset.randomOutputLen).jsonl"
        }
        return "\(backend)_\(day)_\(count)_sharegpt.jsonl"
    }
}
