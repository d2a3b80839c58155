import Foundation
import JSON
import Jinja
import Tokenizers

/// Turns chat messages into prompt ids: the tokenizer's Jinja template by default, or what `--chat-template`
/// names (a built-in conversation template, a FastChat-style .json file, or a .jinja file), spec §5.
enum ChatPromptBuilder: Sendable {
    case jinja(ChatTemplate)
    case conversation(ConversationTemplate)
    /// No template is available; the message says why.
    case unavailable(String)

    /// Resolves `--chat-template`.
    /// - Throws: `ServerError` for an unreadable file, an invalid template or an unknown name.
    static func resolve(_ argument: String?, tokenizer: Tokenizer?) throws -> ChatPromptBuilder {
        guard let argument else {
            guard let tokenizer else { return .unavailable("the model has no tokenizer, so chat requests cannot be served") }
            do {
                return .jinja(try ChatTemplate(tokenizer: tokenizer))
            } catch {
                return .unavailable("the model has no chat template (\(error)); start the server with --chat-template")
            }
        }
        if argument.hasSuffix(".jinja") || argument.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: argument) else {
                throw ServerError.badRequest("--chat-template: cannot read \(argument)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ServerError.badRequest("--chat-template: \(argument) is not UTF-8 text")
            }
            if argument.hasSuffix(".jinja") {
                do {
                    return .jinja(try ChatTemplate(
                        text, bosToken: tokenizer?.bosToken, eosToken: tokenizer?.eosToken, unkToken: tokenizer?.unkToken,
                        padToken: tokenizer?.padToken))
                } catch {
                    throw ServerError.badRequest("--chat-template \(argument): \(error)")
                }
            }
            let json: JSONValue
            do { json = try JSONValue.parse(text) } catch { throw ServerError.badRequest("--chat-template \(argument): \(error)") }
            return .conversation(try ConversationTemplate.load(json: json, path: argument))
        }
        if let builtin = ConversationTemplate.builtins[argument] { return .conversation(builtin) }
        let known = ConversationTemplate.builtins.keys.sorted().joined(separator: ", ")
        throw ServerError.badRequest(
            "--chat-template \(argument): not a built-in template (\(known)), a .json file or a .jinja file")
    }

    /// A rendered chat prompt.
    struct Rendered: Sendable {
        var text: String
        var ids: [Int]
        /// Stop strings the template adds (conversation templates).
        var stop: [String]
    }

    /// Renders and tokenizes `messages` (normalized: string contents) with the generation prompt.
    /// - Throws: `ServerError` (400) with the template's own message when it raises.
    func render(messages: [JSONValue], tools: JSONValue?, extra: [String: JSONValue], tokenizer: Tokenizer?) throws -> Rendered {
        guard let tokenizer else { throw ServerError.badRequest("the model has no tokenizer, so chat requests cannot be served") }
        switch self {
        case .unavailable(let why):
            throw ServerError.badRequest(why)
        case .jinja(let template):
            let text: String
            do {
                text = try template.apply(messages: .array(messages), tools: tools, addGenerationPrompt: true, extra: extra)
            } catch let error as JinjaError {
                throw ServerError.badRequest("the chat template failed: \(error.description)", param: "messages")
            } catch {
                throw ServerError.badRequest("the chat template failed: \(error)", param: "messages")
            }
            // As apply_chat_template(tokenize=True): the template writes BOS itself when it wants one.
            return Rendered(text: text, ids: tokenizer.encode(text, addSpecialTokens: false), stop: [])
        case .conversation(let conv):
            let pairs = messages.map { m in (role: m["role"]?.stringValue ?? "", text: m["content"]?.stringValue ?? "") }
            let text = try conv.prompt(pairs)
            return Rendered(text: text, ids: tokenizer.encode(text), stop: conv.stopStrings)
        }
    }
}
