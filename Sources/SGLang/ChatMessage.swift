import JSON

/// One chat message of a program (`messages()`), as a role closed it.
public struct ChatMessage: Sendable, Hashable {
    /// "system", "user" or "assistant".
    public var role: String
    /// The text between the role's prefix and suffix, left-stripped (SGLang's rule).
    public var content: String
    /// Images added inside the role.
    public var images: [ImageInput]

    /// A message.
    public init(role: String, content: String, images: [ImageInput] = []) {
        self.role = role
        self.content = content
        self.images = images
    }

    /// The OpenAI-style object: `{"role", "content"}`; with images, content is a list of a text part and
    /// `image_url` parts (data URLs), as SGLang builds it.
    public var json: JSONValue {
        var o = JSONObject()
        o["role"] = .string(role)
        if images.isEmpty {
            o["content"] = .string(content)
        } else {
            var parts: [JSONValue] = [.object(JSONObject([("type", .string("text")), ("text", .string(content))]))]
            for image in images {
                parts.append(.object(JSONObject([
                    ("type", .string("image_url")),
                    ("image_url", .object(JSONObject([("url", .string(image.url))]))),
                ])))
            }
            o["content"] = .array(parts)
        }
        return .object(o)
    }
}
