import JSON

/// tokenizer.json `normalizer` component (being implemented).
struct LowercaseNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}

/// tokenizer.json `normalizer` component (being implemented).
struct StripNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}

/// tokenizer.json `normalizer` component (being implemented).
struct StripAccentsNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}

/// tokenizer.json `normalizer` component (being implemented).
struct ReplaceNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}

/// tokenizer.json `normalizer` component (being implemented).
struct PrependNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { text }
}
