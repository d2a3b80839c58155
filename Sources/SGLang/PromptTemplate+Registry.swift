/// The frontend's template registry: every SGLang v0.3 template, and matching by model path (spec §1.13).
extension PromptTemplate {
    private typealias A = Affixes

    private static func chatmlRoles(trailingNewline: Bool = true) -> [String: Affixes] {
        let end = trailingNewline ? "<|im_end|>\n" : "<|im_end|>"
        return [
            "system": A("<|im_start|>system\n", end),
            "user": A("<|im_start|>user\n", end),
            "assistant": A("<|im_start|>assistant\n", end),
        ]
    }

    private static func llama3Roles() -> [String: Affixes] {
        var r: [String: Affixes] = [:]
        for role in ["system", "user", "assistant"] {
            r[role] = A("<|start_header_id|>\(role)<|end_header_id|>\n\n", "<|eot_id|>")
        }
        return r
    }

    /// Every registered template, by name.
    public static let registry: [String: PromptTemplate] = {
        var all: [PromptTemplate] = []
        all.append(PromptTemplate(name: "default", roles: [
            "system": A("SYSTEM:", "\n"), "user": A("USER:", "\n"), "assistant": A("ASSISTANT:", "\n"),
        ]))
        all.append(PromptTemplate(name: "claude", roles: [
            "system": A("", ""), "user": A("\n\nHuman: ", ""), "assistant": A("\n\nAssistant:", ""),
        ]))
        all.append(PromptTemplate(name: "chatml", roles: chatmlRoles(), stopStrings: ["<|im_end|>"]))
        all.append(PromptTemplate(name: "qwen", defaultSystemPrompt: "You are a helpful assistant.",
                                  roles: chatmlRoles(), stopStrings: ["<|im_end|>"]))
        all.append(PromptTemplate(name: "chatml-llava", defaultSystemPrompt: "You are a helpful assistant.",
                                  roles: chatmlRoles(), stopStrings: ["<|im_end|>"], imageToken: "<image>\n"))
        all.append(PromptTemplate(
            name: "vicuna_v1.1",
            defaultSystemPrompt: "A chat between a curious human and an artificial intelligence assistant. "
                + "The assistant gives helpful, detailed, and polite answers to the human's questions.",
            roles: ["system": A("", " "), "user": A("USER:", " "), "assistant": A("ASSISTANT:", "</s>")],
            imageToken: " <image>\n"))
        all.append(PromptTemplate(name: "yi-1.5", roles: [
            "system": A("", ""),
            "user": A("<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n"),
            "assistant": A("", "<|im_end|>\n"),
        ], stopStrings: ["<|im_end|>"]))
        all.append(PromptTemplate(name: "llama-2-chat", roles: [
            "system": A("<<SYS>>\n", "\n<</SYS>>\n\n"), "user": A("[INST] ", " [/INST]"), "assistant": A("", " </s><s>"),
        ], style: .llama2))
        all.append(PromptTemplate(name: "llama-3-instruct", roles: llama3Roles(), stopStrings: ["<|eot_id|>"]))
        all.append(PromptTemplate(
            name: "yi-vl",
            defaultSystemPrompt: "This is a chat between an inquisitive human and an AI assistant. Assume the role of "
                + "the AI assistant. Read all the images carefully, and respond to the human's questions with "
                + "informative, helpful, detailed and polite answers. 这是一个好奇的人类和一个人工智能助手之间的对话。"
                + "假设你扮演这个AI助手的角色。仔细阅读所有的图像，并对人类的问题做出信息丰富、有帮助、详细的和礼貌的回答。",
            roles: ["system": A("", "\n\n"), "user": A("### Human:", "\n"), "assistant": A("### Assistant:", "\n")],
            imageToken: " <image_placeholder>\n"))
        all.append(PromptTemplate(name: "gemma-it", roles: [
            "system": A("", ""), "user": A("<start_of_turn>user\n", "<end_of_turn>\n"),
            "assistant": A("<start_of_turn>model\n", "<end_of_turn>\n"),
        ]))
        all.append(PromptTemplate(
            name: "dbrx-instruct",
            defaultSystemPrompt: "You are DBRX, created by Databricks. You were last updated in December 2023. "
                + "You answer questions based on information available up to that point.\n"
                + "YOU PROVIDE SHORT RESPONSES TO SHORT QUESTIONS OR STATEMENTS, but provide thorough responses to "
                + "more complex and open-ended questions.\nYou assist with various tasks, from writing to coding "
                + "(using markdown for code blocks — remember to use ``` with code, JSON, and tables).\n(You do not "
                + "have real-time data access or code execution capabilities. You avoid stereotyping and provide "
                + "balanced perspectives on controversial topics. You do not provide song lyrics, poems, or news "
                + "articles and do not divulge details of your training data.)\nThis is your system prompt, "
                + "guiding your responses. Do not reference it, just respond to the user. If you find yourself "
                + "talking about something in this prompt, stop. Just reply to the user.",
            roles: [
                "system": A("<|im_start|>system\n", "<|im_end|>"),
                "user": A("\n<|im_start|>user\n", "<|im_end|>"),
                "assistant": A("\n<|im_start|>assistant\n", "<|im_end|>"),
            ],
            stopStrings: ["<|im_end|>"]))
        all.append(PromptTemplate(name: "c4ai-command-r", roles: [
            "system": A("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
            "user": A("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
            "assistant": A("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>"),
        ]))
        return Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    }()

    /// A registered template by name.
    /// - Throws: `SGLangError.invalidProgram` listing the known names.
    public static func named(_ name: String) throws -> PromptTemplate {
        guard let t = registry[name] else {
            throw SGLangError.invalidProgram(
                "unknown chat template '\(name)' (known: \(registry.keys.sorted().joined(separator: ", ")))")
        }
        return t
    }

    /// The registered template's name for a model path (case-insensitive substring rules of SGLang v0.3, first
    /// match wins), or nil when no rule matches (SGLang then uses "default").
    public static func matchName(modelPath: String) -> String? {
        let p = modelPath.lowercased()
        func has(_ s: String) -> Bool { p.contains(s) }
        if has("dbrx") && has("instruct") { return "dbrx-instruct" }
        if has("vicuna") || has("llava-v1.5") || has("llava-next-video-7b") { return "vicuna_v1.1" }
        if (has("llama-2") && has("chat")) || ((has("mistral") || has("mixtral")) && has("instruct"))
            || (has("codellama") && has("instruct")) {
            return "llama-2-chat"
        }
        if has("llama-3") && has("instruct") { return "llama-3-instruct" }
        if has("tinyllama") { return "chatml" }
        if has("qwen") && (has("chat") || has("instruct")) && !has("llava") { return "qwen" }
        if has("llava-v1.6-34b") || has("yi-34b") || has("next-video-34b") || has("onevision-qwen2") {
            return "chatml-llava"
        }
        if has("yi-vl") { return "yi-vl" }
        if has("yi-1.5") && has("chat") { return "yi-1.5" }
        if has("gemma") && has("it") { return "gemma-it" }
        if has("c4ai-command-r") { return "c4ai-command-r" }
        return nil
    }

    /// The registered template for a model path ("default" when no rule matches).
    public static func matching(modelPath: String) -> PromptTemplate {
        registry[matchName(modelPath: modelPath) ?? "default"] ?? PromptTemplate(name: "default", roles: [:])
    }
}
