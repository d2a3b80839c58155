import JSON
import Jinja

/// A Hugging Face chat template, compiled once and applied to conversations the way transformers'
/// `apply_chat_template(..., tokenize=False)` does.
///
/// The template sees `messages`, `tools`, `documents`, `add_generation_prompt`, the tokenizer's
/// special tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`, when set) and any extra
/// variables (for example `date_string` or `enable_thinking`), which override the special tokens.
public struct ChatTemplate: Sendable {
    /// The compiled template.
    public let template: Template
    /// Special tokens exposed to the template, by variable name (`bos_token`, ...).
    public var specialTokens: [String: String]

    /// Compiles `source`; throws `JinjaError.syntax` (with line and column) for invalid templates.
    public init(
        _ source: String, bosToken: String? = nil, eosToken: String? = nil, unkToken: String? = nil,
        padToken: String? = nil
    ) throws {
        self.template = try Template(source)
        var tokens: [String: String] = [:]
        if let bosToken { tokens["bos_token"] = bosToken }
        if let eosToken { tokens["eos_token"] = eosToken }
        if let unkToken { tokens["unk_token"] = unkToken }
        if let padToken { tokens["pad_token"] = padToken }
        self.specialTokens = tokens
    }

    /// The tokenizer's chat template: the named one when `name` is given (e.g. `"tool_use"`),
    /// otherwise the default one. Throws `TokenizerError.chatTemplate` when there is none.
    public init(tokenizer: Tokenizer, name: String? = nil) throws {
        let source: String
        if let name {
            guard let named = tokenizer.namedChatTemplates[name] else {
                let known = tokenizer.namedChatTemplates.keys.sorted().joined(separator: ", ")
                throw TokenizerError.chatTemplate(
                    "the tokenizer has no chat template named '\(name)' (it has: \(known.isEmpty ? "none" : known))")
            }
            source = named
        } else if let defaultTemplate = tokenizer.chatTemplate ?? tokenizer.namedChatTemplates["default"] {
            source = defaultTemplate
        } else {
            throw TokenizerError.chatTemplate(
                "the tokenizer has no chat template; pass one explicitly (e.g. --template FILE)")
        }
        try self.init(
            source, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken, unkToken: tokenizer.unkToken,
            padToken: tokenizer.padToken)
    }

    /// Renders a conversation.
    ///
    /// - Parameters:
    ///   - messages: a JSON array of message objects (`role`, `content`, `tool_calls`, ...).
    ///   - tools: JSON tool schemas, or nil (the template then sees `tools` as `none`).
    ///   - documents: retrieval documents for RAG templates, or nil.
    ///   - addGenerationPrompt: whether to append the assistant turn header.
    ///   - extra: further template variables; they take precedence over the special tokens.
    /// - Throws: `JinjaError.raised` with the template's own message when it calls `raise_exception`,
    ///   other `JinjaError` cases for template errors.
    public func apply(
        messages: JSONValue, tools: JSONValue? = nil, documents: JSONValue? = nil,
        addGenerationPrompt: Bool = false, extra: [String: JSONValue] = [:]
    ) throws -> String {
        var context: [String: Value] = [:]
        for (k, v) in specialTokens { context[k] = .string(v) }
        for (k, v) in extra { context[k] = Value(json: v) }
        context["messages"] = Value(json: messages)
        context["tools"] = tools.map(Value.init(json:)) ?? Value.none
        context["documents"] = documents.map(Value.init(json:)) ?? Value.none
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        return try template.render(context)
    }
}
