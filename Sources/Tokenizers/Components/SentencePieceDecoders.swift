import JSON

/// tokenizer.json `decoder` component (being implemented).
struct MetaspaceDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    func decodeChain(_ tokens: [String]) -> [String] { tokens }
}

/// tokenizer.json `decoder` component (being implemented).
struct ByteFallbackDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    func decodeChain(_ tokens: [String]) -> [String] { tokens }
}

/// tokenizer.json `decoder` component (being implemented).
struct FuseDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    func decodeChain(_ tokens: [String]) -> [String] { tokens }
}

/// tokenizer.json `decoder` component (being implemented).
struct StripDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    func decodeChain(_ tokens: [String]) -> [String] { tokens }
}

/// tokenizer.json `decoder` component (being implemented).
struct ReplaceDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    func decodeChain(_ tokens: [String]) -> [String] { tokens }
}
