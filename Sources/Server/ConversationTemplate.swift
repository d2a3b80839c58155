import Foundation
import JSON

/// A FastChat-style conversation template (SGLang's `srt/conversation.py`, spec §5): used when
/// `--chat-template` names a built-in template or a JSON file instead of a Jinja template.
struct ConversationTemplate: Sendable, Equatable {
    /// How turns are joined.
    enum SeparatorStyle: String, Sendable, CaseIterable {
        case addColonSingle = "ADD_COLON_SINGLE"
        case addColonTwo = "ADD_COLON_TWO"
        case noColonSingle = "NO_COLON_SINGLE"
        case addNewLineSingle = "ADD_NEW_LINE_SINGLE"
        case llama2 = "LLAMA2"
        case llama3 = "LLAMA3"
        case chatml = "CHATML"
    }

    var name: String
    /// Contains `{system_message}`.
    var systemTemplate: String
    var systemMessage: String
    var roles: (user: String, assistant: String)
    var style: SeparatorStyle
    var sep: String
    var sep2: String
    /// Added to the request's stop strings.
    var stopStrings: [String]

    static func == (a: ConversationTemplate, b: ConversationTemplate) -> Bool {
        a.name == b.name && a.systemTemplate == b.systemTemplate && a.systemMessage == b.systemMessage
            && a.roles == b.roles && a.style == b.style && a.sep == b.sep && a.sep2 == b.sep2
            && a.stopStrings == b.stopStrings
    }

    /// The built-in templates by name.
    static let builtins: [String: ConversationTemplate] = {
        let list = [
            ConversationTemplate(
                name: "chatml", systemTemplate: "<|im_start|>system\n{system_message}",
                systemMessage: "You are a helpful assistant.", roles: ("<|im_start|>user", "<|im_start|>assistant"),
                style: .chatml, sep: "<|im_end|>", sep2: "", stopStrings: ["<|endoftext|>", "<|im_end|>"]),
            ConversationTemplate(
                name: "llama-2", systemTemplate: "[INST] <<SYS>>\n{system_message}\n<</SYS>>\n\n", systemMessage: "",
                roles: ("[INST]", "[/INST]"), style: .llama2, sep: " ", sep2: " </s><s>",
                stopStrings: ["[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"]),
            ConversationTemplate(
                name: "vicuna_v1.1", systemTemplate: "{system_message}",
                systemMessage: "A chat between a curious user and an artificial intelligence assistant. "
                    + "The assistant gives helpful, detailed, and polite answers to the user's questions.",
                roles: ("USER", "ASSISTANT"), style: .addColonTwo, sep: " ", sep2: "</s>", stopStrings: []),
            ConversationTemplate(
                name: "llama-3", systemTemplate: "<|start_header_id|>system<|end_header_id|>\n\n{system_message}<|eot_id|>",
                systemMessage: "", roles: ("user", "assistant"), style: .llama3, sep: "", sep2: "",
                stopStrings: ["<|end_of_text|>", "<|eot_id|>"]),
        ]
        var map: [String: ConversationTemplate] = [:]
        for t in list { map[t.name] = t }
        map["llava_llama_3"] = map["llama-3"]
        return map
    }()

    /// A custom template file: `{"name", "system", "user", "assistant", "sep_style", "sep", "stop_str"}`.
    /// - Throws: `ServerError` naming the missing or mistyped field.
    static func load(json value: JSONValue, path: String) throws -> ConversationTemplate {
        guard let o = value.objectValue else { throw ServerError.badRequest("\(path): a chat template file must hold a JSON object") }
        let f = FieldReader(o, prefix: "\(path): ")
        guard let name = try f.string("name") else { throw ServerError.badRequest("\(path): \"name\" is required") }
        guard let styleName = try f.string("sep_style") else { throw ServerError.badRequest("\(path): \"sep_style\" is required") }
        guard let style = SeparatorStyle(rawValue: styleName) else {
            let known = SeparatorStyle.allCases.map(\.rawValue).joined(separator: ", ")
            throw ServerError.badRequest("\(path): unknown sep_style \(styleName) (known: \(known))")
        }
        return ConversationTemplate(
            name: name, systemTemplate: (try f.string("system") ?? "") + "\n{system_message}", systemMessage: "",
            roles: (try f.string("user") ?? "user", try f.string("assistant") ?? "assistant"), style: style,
            sep: try f.string("sep") ?? "\n", sep2: try f.string("sep2") ?? "", stopStrings: try f.strings("stop_str") ?? [])
    }

    /// The prompt for `messages` (role, text) ending with the assistant's open turn.
    /// - Throws: `ServerError` for a role the template has no place for.
    func prompt(_ messages: [(role: String, text: String)]) throws -> String {
        var system = systemMessage
        var turns: [(String, String?)] = []
        for m in messages {
            switch m.role {
            case "system", "developer": system = m.text
            case "user": turns.append((roles.user, m.text))
            case "assistant": turns.append((roles.assistant, m.text))
            default:
                throw ServerError.badRequest("the \(name) chat template has no \(m.role) role", param: "messages")
            }
        }
        turns.append((roles.assistant, nil))
        let systemPrompt = systemTemplate.replacingOccurrences(of: "{system_message}", with: system)
        var ret = ""
        switch style {
        case .addColonSingle:
            ret = systemPrompt + sep
            for (role, msg) in turns { ret += msg.map { role + ": " + $0 + sep } ?? role + ":" }
        case .addColonTwo:
            let seps = [sep, sep2]
            ret = systemPrompt + seps[0]
            for (i, (role, msg)) in turns.enumerated() { ret += msg.map { role + ": " + $0 + seps[i % 2] } ?? role + ":" }
        case .noColonSingle:
            ret = systemPrompt
            for (role, msg) in turns { ret += msg.map { role + $0 + sep } ?? role }
        case .addNewLineSingle:
            ret = systemPrompt.isEmpty ? "" : systemPrompt + sep
            for (role, msg) in turns { ret += msg.map { role + "\n" + $0 + sep } ?? role + "\n" }
        case .chatml:
            ret = systemPrompt.isEmpty ? "" : systemPrompt + sep + "\n"
            for (role, msg) in turns { ret += msg.map { role + "\n" + $0 + sep + "\n" } ?? role + "\n" }
        case .llama2:
            let seps = [sep, sep2]
            ret = system.isEmpty ? "[INST] " : systemPrompt
            for (i, (role, msg)) in turns.enumerated() {
                if let msg {
                    ret += i == 0 ? msg + " " : role + " " + msg + seps[i % 2]
                } else {
                    ret += role
                }
            }
        case .llama3:
            ret = "<|begin_of_text|>" + (system.isEmpty ? "" : systemPrompt)
            for (role, msg) in turns {
                ret += "<|start_header_id|>\(role)<|end_header_id|>\n\n"
                if let msg { ret += msg.trimmingCharacters(in: .whitespacesAndNewlines) + "<|eot_id|>" }
            }
        }
        return ret
    }
}
