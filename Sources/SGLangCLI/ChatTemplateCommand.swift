import ArgumentParser
import Foundation
import JSON
import Jinja
import Tokenizers

/// `sglang chat-template`: renders a chat template exactly as transformers' `apply_chat_template`.
struct ChatTemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-template",
        abstract: "Render a chat template for a conversation and print the prompt (no added newline)."
    )

    @Option(name: .long, help: "A model folder, tokenizer.json or .gguf file whose chat template and special tokens to use.")
    var tokenizer: String?

    @Option(name: .long, help: "A Jinja template file (used instead of the tokenizer's template).")
    var template: String?

    @Option(name: .long, help: "The named template of the tokenizer to use (e.g. tool_use).")
    var templateName: String?

    @Option(name: .long, help: "The conversation: a JSON array of messages, or @FILE to read it from a file.")
    var messages: String

    @Option(name: .long, help: "Tool schemas: a JSON array, or @FILE.")
    var tools: String?

    @Option(name: .long, help: "Documents for retrieval templates: a JSON array, or @FILE.")
    var documents: String?

    @Flag(name: .long, help: "Append the assistant turn header.")
    var addGenerationPrompt = false

    @Option(name: .customLong("var"), help: "A template variable NAME=VALUE; VALUE is parsed as JSON when valid, else used as a string. Repeatable.")
    var vars: [String] = []

    func validate() throws {
        if tokenizer == nil && template == nil { throw ValidationError("give --tokenizer PATH or --template FILE") }
    }

    func run() throws {
        do {
            let text = try render()
            FileHandle.standardOutput.write(Data(text.utf8))
        } catch let error as JinjaError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        } catch let error as TokenizerError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }

    private func render() throws -> String {
        var chat: ChatTemplate
        let tok = try tokenizer.map { try Tokenizer.load(from: $0) }
        if let template {
            guard let data = FileManager.default.contents(atPath: template) else {
                throw ValidationError("cannot read --template \(template)")
            }
            chat = try ChatTemplate(
                String(decoding: data, as: UTF8.self), bosToken: tok?.bosToken, eosToken: tok?.eosToken,
                unkToken: tok?.unkToken, padToken: tok?.padToken)
        } else if let tok {
            chat = try ChatTemplate(tokenizer: tok, name: templateName)
        } else {
            throw ValidationError("give --tokenizer PATH or --template FILE")
        }
        var extra: [String: JSONValue] = [:]
        for v in vars {
            guard let eq = v.firstIndex(of: "="), eq != v.startIndex else {
                throw ValidationError("--var expects NAME=VALUE, got '\(v)'")
            }
            let name = String(v[..<eq]), raw = String(v[v.index(after: eq)...])
            extra[name] = (try? JSONValue.parse(raw)) ?? .string(raw)
        }
        // Special tokens given with --var take over the tokenizer's.
        for key in ["bos_token", "eos_token", "unk_token", "pad_token"] {
            if let v = extra[key] {
                chat.specialTokens[key] = v.stringValue
                extra[key] = v.stringValue == nil ? v : nil
            }
        }
        return try chat.apply(
            messages: try json(messages, "--messages"), tools: try tools.map { try json($0, "--tools") },
            documents: try documents.map { try json($0, "--documents") },
            addGenerationPrompt: addGenerationPrompt, extra: extra)
    }

    private func json(_ argument: String, _ option: String) throws -> JSONValue {
        var text = argument
        if argument.hasPrefix("@") {
            let path = String(argument.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read \(option) file \(path)")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        do {
            return try JSONValue.parse(text)
        } catch {
            throw ValidationError("\(option) is not valid JSON: \(error)")
        }
    }
}
