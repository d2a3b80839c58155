import JSON

/// tokenizer.json `pre_tokenizer` component (being implemented).
struct DigitsPreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] { pieces }
}

/// tokenizer.json `pre_tokenizer` component (being implemented).
struct WhitespacePreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] { pieces }
}

/// tokenizer.json `pre_tokenizer` component (being implemented).
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] { pieces }
}

/// tokenizer.json `pre_tokenizer` component (being implemented).
struct BertPreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] { pieces }
}

/// tokenizer.json `pre_tokenizer` component (being implemented).
struct PunctuationPreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] { pieces }
}
