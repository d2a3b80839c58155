import JSON

/// tokenizer.json `pre_tokenizer` component (being implemented).
struct SequencePreTokenizer: PreTokenizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "pre_tokenizer", json: json)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] { pieces }
}
