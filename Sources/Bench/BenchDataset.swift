import Foundation
import JSON
import Runtime
import Tokenizers

/// The datasets of SGLang's benchmarks (`--dataset-name`, spec §8.2).
public enum BenchDatasetName: String, Sendable, CaseIterable {
    /// Uniform random token ids of random lengths, decoded to text.
    case random
    /// Groups of prompts that share a random system prompt (measures prefix-cache gains).
    case generatedSharedPrefix = "generated-shared-prefix"
    /// A ShareGPT-format JSON file (`--dataset-path`): the first two turns of each conversation.
    case sharegpt
}

/// One benchmark request: the prompt to send, its length in tokens and the output length to ask for.
public struct DatasetRow: Sendable, Hashable {
    /// The prompt: text (tokenized by the server) or token ids.
    public var prompt: PromptInput
    /// The prompt's length in tokens as the dataset counts it (SGLang's `prompt_len`).
    public var promptLen: Int
    /// `max_new_tokens` for this request.
    public var outputLen: Int
    /// The shared-prefix group of a `generated-shared-prefix` row.
    public var group: Int?

    /// A row.
    public init(prompt: PromptInput, promptLen: Int, outputLen: Int, group: Int? = nil) {
        self.prompt = prompt
        self.promptLen = promptLen
        self.outputLen = outputLen
        self.group = group
    }

    /// The prompt's text, when it is text.
    public var text: String? { if case .text(let t) = prompt { t } else { nil } }
}

/// The dataset flags shared by `bench-offline` and `bench-serving` (SGLang's names and defaults).
public struct BenchDatasetOptions: Sendable, Hashable {
    public var name: BenchDatasetName = .sharegpt
    /// ShareGPT-format JSON file.
    public var path: String?
    /// Prompts to take (`random`, `sharegpt`; shared-prefix uses groups × prompts per group).
    public var numPrompts = 1000
    /// Fixed output length for ShareGPT rows (nil: the reference reply's length).
    public var sharegptOutputLen: Int?
    /// Drop ShareGPT rows whose prompt + output exceed this many tokens.
    public var sharegptContextLen: Int?
    public var randomInputLen = 1024
    public var randomOutputLen = 1024
    /// Lengths are drawn uniformly from `[max(len × ratio, 1), len]`.
    public var randomRangeRatio = 0.0
    public var gspNumGroups = 64
    public var gspPromptsPerGroup = 16
    public var gspSystemPromptLen = 2048
    public var gspQuestionLen = 128
    public var gspOutputLen = 256
    /// Seed of every random choice.
    public var seed: UInt64 = 1
    /// Send token ids instead of text (exact prompt lengths; SGLang's `--tokenize-prompt`).
    public var tokenizePrompt = false

    /// SGLang's defaults.
    public init() {}

    /// Checks the values that would make a dataset empty or ill-defined.
    public func validate() throws {
        func positive(_ value: Int, _ flag: String) throws {
            guard value > 0 else { throw BenchError.invalidArgument("\(flag) must be > 0, found \(value)") }
        }
        switch name {
        case .random:
            try positive(numPrompts, "--num-prompts")
            try positive(randomInputLen, "--random-input-len")
            try positive(randomOutputLen, "--random-output-len")
            guard (0...1).contains(randomRangeRatio) else {
                throw BenchError.invalidArgument("--random-range-ratio must be in [0, 1], found \(randomRangeRatio)")
            }
        case .generatedSharedPrefix:
            try positive(gspNumGroups, "--gsp-num-groups")
            try positive(gspPromptsPerGroup, "--gsp-prompts-per-group")
            try positive(gspSystemPromptLen, "--gsp-system-prompt-len")
            try positive(gspQuestionLen, "--gsp-question-len")
            try positive(gspOutputLen, "--gsp-output-len")
        case .sharegpt:
            try positive(numPrompts, "--num-prompts")
            guard let path, !path.isEmpty else {
                throw BenchError.invalidArgument("--dataset-name sharegpt needs --dataset-path (nothing is downloaded)")
            }
            if let fixed = sharegptOutputLen, fixed < 4 {
                throw BenchError.invalidArgument("--sharegpt-output-len must be ≥ 4, found \(fixed)")
            }
        }
    }
}

/// Builds benchmark datasets. Everything random comes from `SplitMix64(seed:)`, so a seed fixes the rows.
public struct BenchDatasetBuilder: Sendable {
    /// Encodes and decodes text; without one, prompts are token ids (a model folder without tokenizer files).
    public let tokenizer: Tokenizer?
    /// Random token ids are drawn from `0..<vocabSize`, special tokens excluded.
    public let vocabSize: Int

    /// A builder over a tokenizer and/or a vocabulary size (the smaller of the model's and the tokenizer's).
    public init(tokenizer: Tokenizer?, vocabSize: Int) {
        self.tokenizer = tokenizer
        self.vocabSize = vocabSize
    }

    /// The rows of `options`' dataset.
    /// - Throws: `BenchError` for bad options, a missing tokenizer where one is needed, or a bad dataset file.
    public func build(_ options: BenchDatasetOptions) throws -> [DatasetRow] {
        try options.validate()
        var rng = SplitMix64(seed: options.seed)
        switch options.name {
        case .random: return try random(options, rng: &rng)
        case .generatedSharedPrefix: return try sharedPrefix(options, rng: &rng)
        case .sharegpt: return try shareGPT(options, rng: &rng)
        }
    }

    /// Ids a random prompt may use: the vocabulary minus special tokens (which would turn random text into
    /// control tokens).
    private func samplableIds() throws -> [Int] {
        let special = tokenizer?.specialTokenIds ?? []
        let ids = (0..<vocabSize).filter { !special.contains($0) }
        guard !ids.isEmpty else { throw BenchError.invalidArgument("the vocabulary has no ordinary tokens to sample") }
        return ids
    }

    private func randomIds(_ count: Int, from pool: [Int], rng: inout SplitMix64) -> [Int] {
        (0..<count).map { _ in pool[rng.int(in: 0...(pool.count - 1))] }
    }

    /// SGLang's `random`: input and output lengths uniform in `[max(len·ratio, 1), len]`, uniform token ids,
    /// decoded to text; `prompt_len` is the drawn length.
    private func random(_ o: BenchDatasetOptions, rng: inout SplitMix64) throws -> [DatasetRow] {
        let inputRange = max(Int(Double(o.randomInputLen) * o.randomRangeRatio), 1)...o.randomInputLen
        let outputRange = max(Int(Double(o.randomOutputLen) * o.randomRangeRatio), 1)...o.randomOutputLen
        let inputLens = (0..<o.numPrompts).map { _ in rng.int(in: inputRange) }
        let outputLens = (0..<o.numPrompts).map { _ in rng.int(in: outputRange) }
        let pool = try samplableIds()
        return (0..<o.numPrompts).map { i in
            let ids = randomIds(inputLens[i], from: pool, rng: &rng)
            return DatasetRow(prompt: prompt(ids: ids, tokenize: o.tokenizePrompt), promptLen: inputLens[i],
                              outputLen: outputLens[i])
        }
    }

    private func prompt(ids: [Int], tokenize: Bool) -> PromptInput {
        guard let tokenizer, !tokenize else { return .ids(ids) }
        return .text(tokenizer.decode(ids))
    }

    /// SGLang's `generated-shared-prefix`: each group's random system prompt, then "\n\n" and a random question;
    /// `prompt_len` is the encoded length of the whole prompt; rows are shuffled.
    private func sharedPrefix(_ o: BenchDatasetOptions, rng: inout SplitMix64) throws -> [DatasetRow] {
        let pool = try samplableIds()
        let systems = (0..<o.gspNumGroups).map { _ in randomIds(o.gspSystemPromptLen, from: pool, rng: &rng) }
        let questions = (0..<(o.gspNumGroups * o.gspPromptsPerGroup)).map { _ in
            randomIds(o.gspQuestionLen, from: pool, rng: &rng)
        }
        var rows: [DatasetRow] = []
        rows.reserveCapacity(questions.count)
        for group in 0..<o.gspNumGroups {
            let systemText = tokenizer.map { $0.decode(systems[group]) }
            for k in 0..<o.gspPromptsPerGroup {
                let question = questions[group * o.gspPromptsPerGroup + k]
                if let tokenizer, let systemText {
                    let full = systemText + "\n\n" + tokenizer.decode(question)
                    let ids = tokenizer.encode(full)
                    rows.append(DatasetRow(prompt: o.tokenizePrompt ? .ids(ids) : .text(full), promptLen: ids.count,
                                           outputLen: o.gspOutputLen, group: group))
                } else {
                    let ids = systems[group] + question
                    rows.append(DatasetRow(prompt: .ids(ids), promptLen: ids.count, outputLen: o.gspOutputLen,
                                           group: group))
                }
            }
        }
        rows.shuffle(using: &rng)
        return rows
    }

    /// SGLang's `sharegpt`: conversations with at least two turns, their first two turns (prompt, reference
    /// reply), shuffled; rows whose prompt or output is under 2 tokens, or over the context length, are skipped.
    private func shareGPT(_ o: BenchDatasetOptions, rng: inout SplitMix64) throws -> [DatasetRow] {
        guard let tokenizer else {
            throw BenchError.invalidArgument("the sharegpt dataset needs a tokenizer (--tokenizer or a model with one)")
        }
        let pairs = try Self.shareGPTPairs(path: o.path ?? "")
        var shuffled = pairs
        shuffled.shuffle(using: &rng)
        var rows: [DatasetRow] = []
        for (promptText, reply) in shuffled {
            if rows.count == o.numPrompts { break }
            let ids = tokenizer.encode(promptText)
            let outputLen = o.sharegptOutputLen ?? tokenizer.encode(reply).count
            if ids.count < 2 || outputLen < 2 { continue }
            if let context = o.sharegptContextLen, ids.count + outputLen > context { continue }
            rows.append(DatasetRow(prompt: o.tokenizePrompt ? .ids(ids) : .text(promptText), promptLen: ids.count,
                                   outputLen: outputLen))
        }
        return rows
    }

    /// The (first turn, second turn) texts of every conversation with at least two turns, in file order.
    /// - Throws: `BenchError.invalidDataset` for an unreadable file or a document that is not a list of objects.
    public static func shareGPTPairs(path: String) throws -> [(String, String)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError.invalidDataset("cannot read \(path)")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes: [UInt8](data))
        } catch {
            throw BenchError.invalidDataset("\(path): \(error)")
        }
        guard let entries = document.arrayValue else {
            throw BenchError.invalidDataset("\(path): expected a JSON list of conversations, found \(document.typeName)")
        }
        var pairs: [(String, String)] = []
        for entry in entries {
            guard let turns = (entry["conversations"] ?? entry["conversation"])?.arrayValue, turns.count >= 2 else {
                continue
            }
            guard let first = turns[0]["value"]?.stringValue, let second = turns[1]["value"]?.stringValue else {
                throw BenchError.invalidDataset("\(path): a conversation turn has no string \"value\"")
            }
            pairs.append((first, second))
        }
        return pairs
    }
}
