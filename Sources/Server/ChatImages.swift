import JSON
import Runtime
import Tokenizers

/// Chat messages with `image_url` parts (spec §4.2): the parts become `{"type": "image"}` entries for the chat
/// template, and the URLs become the request's `image_data`, in order.
enum ChatImages {
    /// A message's content parts with each `image_url` part as `{"type": "image", "url": …}`.
    /// - Throws: `ServerError` (400) naming the part that is malformed or of an unsupported type.
    static func parts(_ parts: [JSONValue], field: String) throws -> [JSONValue] {
        try parts.enumerated().map { j, part in
            let name = "\(field).content[\(j)]"
            switch part["type"]?.stringValue {
            case "text"?:
                guard let text = part["text"]?.stringValue else {
                    throw ServerError.badRequest("\(name).text must be a string", param: "messages")
                }
                return .object(JSONObject([("type", .string("text")), ("text", .string(text))]))
            case "image_url"?:
                // `image_url` is {"url": …, "detail": …} in the OpenAI API; a bare string is accepted too.
                guard let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue else {
                    throw ServerError.badRequest("\(name).image_url.url must be a string", param: "messages")
                }
                return .object(JSONObject([("type", .string("image")), ("url", .string(url))]))
            case let other?:
                throw ServerError.badRequest("\(name): \(other) parts are not supported (text and image_url only)",
                                             param: "messages")
            case nil:
                throw ServerError.badRequest("\(name).type must be a string", param: "messages")
            }
        }
    }

    /// The image URLs of a message, in order.
    static func urls(_ message: JSONValue) -> [String] {
        (message["content"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue == "image" ? $0["url"]?.stringValue : nil }
    }

    /// Renders messages that may hold images. A Jinja template that renders image parts (llava-hf templates write
    /// the image token for `{"type": "image"}`) gets them as they are; otherwise each message becomes text with
    /// the model's image token before its text, one per image (SGLang's chatml-llava / vicuna convention).
    static func render(_ builder: ChatPromptBuilder, messages: [JSONValue], tools: JSONValue?, extra: [String: JSONValue],
                       tokenizer: Tokenizer?, vision: VisionSupport?) throws -> ChatPromptBuilder.Rendered {
        let imageCount = messages.reduce(0) { $0 + urls($1).count }
        guard imageCount > 0 else {
            return try builder.render(messages: messages, tools: tools, extra: extra, tokenizer: tokenizer)
        }
        let token = vision?.imageTokenText
        if case .jinja = builder, let token,
           let rendered = try? builder.render(messages: messages, tools: tools, extra: extra, tokenizer: tokenizer),
           rendered.text.components(separatedBy: token).count - 1 == imageCount {
            return rendered
        }
        // A text model gets the text alone; the engine then rejects the request's images with its own message.
        let flat = messages.map { m -> JSONValue in
            guard var o = m.objectValue, let parts = m["content"]?.arrayValue else { return m }
            let images = parts.filter { $0["type"]?.stringValue == "image" }.count
            let texts = parts.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }
            o["content"] = .string(String(repeating: (token ?? "") + "\n", count: token == nil ? 0 : images)
                + texts.joined(separator: " "))
            return .object(o)
        }
        return try builder.render(messages: flat, tools: tools, extra: extra, tokenizer: tokenizer)
    }
}
