import JSON

/// tokenizer.json `normalizer` component (being implemented).
struct NFCNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}

/// tokenizer.json `normalizer` component (being implemented).
struct NFDNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}

/// tokenizer.json `normalizer` component (being implemented).
struct NFKCNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}

/// tokenizer.json `normalizer` component (being implemented).
struct NFKDNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}
