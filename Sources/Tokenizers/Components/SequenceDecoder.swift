import JSON

/// tokenizer.json `decoder` component (being implemented).
struct SequenceDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    func decodeChain(_ tokens: [String]) -> [String] { tokens }
}
