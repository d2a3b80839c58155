import JSON

/// tokenizer.json `post_processor` component (being implemented).
struct BertPostProcessor: PostProcessor {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "post_processor", json: json)
    }

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] { ids }
}

/// tokenizer.json `post_processor` component (being implemented).
struct RobertaPostProcessor: PostProcessor {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "post_processor", json: json)
    }

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] { ids }
}
