import JSON

/// tokenizer.json `normalizer` component (being implemented).
struct BertNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}
