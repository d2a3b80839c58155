import JSON
import Models
import Tokenizers

/// What `sglang generate` asks for: a text prompt (optionally wrapped in the chat template) or raw ids.
public struct TextGenerationRequest: Sendable {
    /// The prompt text, or nil when `inputIds` is given.
    public var prompt: String?
    /// Apply the model's chat template to `prompt` as one user message, with the generation prompt.
    public var chat: Bool
    /// Raw prompt ids, used as they are.
    public var inputIds: [Int]?
    public var params: SamplingParams
    public var maxNewTokens: Int
    public var ignoreEOS: Bool
    public var topLogprobs: Int

    public init(prompt: String? = nil, chat: Bool = false, inputIds: [Int]? = nil,
                params: SamplingParams = SamplingParams(), maxNewTokens: Int = 128, ignoreEOS: Bool = false,
                topLogprobs: Int = 0) {
        self.prompt = prompt
        self.chat = chat
        self.inputIds = inputIds
        self.params = params
        self.maxNewTokens = maxNewTokens
        self.ignoreEOS = ignoreEOS
        self.topLogprobs = topLogprobs
    }
}

/// A finished `generate`: ids, text and log-probabilities.
public struct TextGenerationOutput: Sendable {
    /// The prompt ids the model saw.
    public let promptIds: [Int]
    /// The generation result (ids include a final EOS).
    public let result: GenerationResult
    /// The completion text: output ids without the stop token, special tokens skipped.
    public let text: String

    /// `{"output_ids": [...], "text": "...", "top_logprobs": [[[id, logprob], ...] per step]}`.
    public var json: JSONValue {
        var o = JSONObject()
        o["output_ids"] = .array(result.outputIds.map { .int($0) })
        o["text"] = .string(text)
        o["top_logprobs"] = .array(result.topLogprobs.map { step in
            .array(step.map { .array([.int($0.id), .double($0.logprob)]) })
        })
        return .object(o)
    }
}

/// The library side of `sglang generate`: builds the prompt ids, generates, and streams the text.
public enum TextGeneration {
    /// The prompt ids of `request` for `model`.
    /// - Throws: `RuntimeError.invalidInput` when a text prompt needs a tokenizer the model lacks, or the
    ///   chat template's errors.
    public static func promptIds(_ request: TextGenerationRequest, model: LoadedModel) throws -> [Int] {
        if let ids = request.inputIds {
            if request.prompt != nil {
                throw RuntimeError.invalidInput("give either a prompt or input ids, not both")
            }
            return ids
        }
        guard let prompt = request.prompt else { throw RuntimeError.invalidInput("no prompt and no input ids") }
        guard let tokenizer = model.tokenizer else {
            throw RuntimeError.invalidInput("the model has no tokenizer; pass --input-ids instead of a text prompt")
        }
        guard request.chat else { return tokenizer.encode(prompt) }
        let template = try ChatTemplate(tokenizer: tokenizer)
        var message = JSONObject()
        message["role"] = .string("user")
        message["content"] = .string(prompt)
        let text = try template.apply(messages: .array([.object(message)]), addGenerationPrompt: true)
        // As transformers' apply_chat_template(tokenize=True): the template writes BOS itself when it wants one.
        return tokenizer.encode(text, addSpecialTokens: false)
    }

    /// Generates; `onText` receives the completion as it is produced (incremental detokenization, special
    /// tokens and the final stop token left out). The concatenation of `onText` calls equals `text`.
    public static func run(_ request: TextGenerationRequest, model: LoadedModel,
                           onText: (String) throws -> Void = { _ in }) throws -> TextGenerationOutput {
        let ids = try promptIds(request, model: model)
        let stopIds = model.eosTokenIds
        var detokenizer = model.tokenizer?.makeIncrementalDetokenizer(skipSpecialTokens: true, context: ids)
        var text = ""
        let result = try Generator(model: model.model).generate(
            promptIds: ids, params: request.params, maxNewTokens: request.maxNewTokens, stopIds: stopIds,
            ignoreEOS: request.ignoreEOS, topLogprobs: request.topLogprobs
        ) { token in
            if !request.ignoreEOS && stopIds.contains(token.id) { return }
            if let piece = detokenizer?.append(token.id), !piece.isEmpty {
                text += piece
                try onText(piece)
            }
        }
        if let rest = detokenizer?.finish(), !rest.isEmpty {
            text += rest
            try onText(rest)
        }
        return TextGenerationOutput(promptIds: ids, result: result, text: text)
    }
}
