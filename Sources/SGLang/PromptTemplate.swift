import JSON
import Tokenizers

/// The chat template of the frontend (SGLang's `lang/chat_template.py`, spec §1.13): how roles become text.
///
/// Either a table of per-role prefixes and suffixes (the registry's templates, `PromptTemplate.named(_:)`),
/// or a model's own Jinja chat template (`PromptTemplate(jinja:)`), whose prefix and suffix for a role are cut
/// out of a rendering of the conversation so far plus a placeholder message.
public struct PromptTemplate: Sendable {
    /// How the table applies.
    public enum Style: Sendable, Hashable {
        /// prefix + content + suffix for every message.
        case plain
        /// Llama-2: the first system message is wrapped in the user prefix, and the user message right after
        /// it has no prefix of its own.
        case llama2
    }

    /// A role's text around its content.
    public struct Affixes: Sendable, Hashable {
        public var prefix: String
        public var suffix: String
        public init(_ prefix: String, _ suffix: String) {
            self.prefix = prefix
            self.suffix = suffix
        }
    }

    /// The template's name ("chatml", "llama-3-instruct", … or "model" for a Jinja template).
    public var name: String
    /// Inserted as a system message before the first non-system role when the program has no messages yet.
    public var defaultSystemPrompt: String?
    /// Prefix and suffix by role.
    public var roles: [String: Affixes]
    /// Strings appended to every gen's stop list.
    public var stopStrings: [String]
    /// The text `image(...)` appends.
    public var imageToken: String
    /// How the table applies.
    public var style: Style
    /// A model's own template, when this is one.
    let jinja: ChatTemplate?

    /// A table template.
    public init(name: String, defaultSystemPrompt: String? = nil, roles: [String: Affixes], stopStrings: [String] = [],
                imageToken: String = "<image>", style: Style = .plain) {
        self.name = name
        self.defaultSystemPrompt = defaultSystemPrompt
        self.roles = roles
        self.stopStrings = stopStrings
        self.imageToken = imageToken
        self.style = style
        jinja = nil
    }

    /// A model's own Jinja chat template (its end-of-turn text is found by rendering, not declared).
    public init(jinja template: ChatTemplate, name: String = "model", stopStrings: [String] = [],
                imageToken: String = "<image>") {
        self.name = name
        defaultSystemPrompt = nil
        roles = [:]
        self.stopStrings = stopStrings
        self.imageToken = imageToken
        style = .plain
        jinja = template
    }

    /// Whether this is a model's Jinja template.
    public var isJinja: Bool { jinja != nil }

    /// The text before and after a `role` message that follows `history` (SGLang's `get_prefix_and_suffix`).
    /// - Throws: `SGLangError.invalidProgram` when a Jinja template cannot render the conversation.
    public func affixes(role: String, history: [ChatMessage]) throws -> Affixes {
        if let jinja { return try Self.jinjaAffixes(jinja, role: role, history: history) }
        let own = roles[role] ?? Affixes("", "")
        if style == .llama2 {
            if role == "system", history.isEmpty {
                let user = roles["user"]?.prefix ?? ""
                return Affixes(user + own.prefix, own.suffix)
            }
            if role == "user", history.count == 1, history[0].role == "system" {
                return Affixes("", own.suffix)
            }
        }
        return own
    }

    /// The whole prompt of a conversation (SGLang's `get_prompt`): each message with its affixes; a system
    /// message with empty content takes the default system prompt or is skipped.
    public func prompt(for messages: [ChatMessage]) throws -> String {
        if let jinja {
            do {
                let plain = messages.map { ChatMessage(role: $0.role, content: $0.content).json }
                return try jinja.apply(messages: .array(plain), addGenerationPrompt: false)
            } catch {
                throw SGLangError.invalidProgram("the model's chat template failed: \(error)")
            }
        }
        var text = ""
        var history: [ChatMessage] = []
        for var m in messages {
            if m.role == "system", m.content.isEmpty {
                guard let d = defaultSystemPrompt else { continue }
                m.content = d
            }
            let a = try affixes(role: m.role, history: history)
            text += a.prefix + m.content + a.suffix
            history.append(m)
        }
        return text
    }

    /// A placeholder no real message contains.
    private static let placeholder = "\u{1F}SGLANG-CONTENT\u{1F}"

    private static func jinjaAffixes(_ t: ChatTemplate, role: String, history: [ChatMessage]) throws -> Affixes {
        do {
            // Text content only: image tokens are already in the text, and text-only templates cannot render parts.
            let plain = history.map { ChatMessage(role: $0.role, content: $0.content) }
            let base = plain.isEmpty ? "" : try t.apply(messages: .array(plain.map(\.json)), addGenerationPrompt: false)
            let probe = plain + [ChatMessage(role: role, content: placeholder)]
            let full = try t.apply(messages: .array(probe.map(\.json)), addGenerationPrompt: false)
            guard let mark = full.range(of: placeholder) else {
                throw SGLangError.invalidProgram("the chat template drops the content of a \(role) message")
            }
            var head = full[..<mark.lowerBound]
            // Templates render history the same way whatever follows; where one does not, keep what differs.
            if head.hasPrefix(base) {
                head = head.dropFirst(base.count)
            } else {
                let common = zip(head, base).prefix(while: { $0 == $1 }).count
                head = head.dropFirst(common)
            }
            return Affixes(String(head), String(full[mark.upperBound...]))
        } catch let error as SGLangError {
            throw error
        } catch {
            throw SGLangError.invalidProgram("the model's chat template failed for a \(role) message: \(error)")
        }
    }
}
