import JSON

/// tokenizer.json `model` component (being implemented).
struct WordPieceModel: TokenizerModel {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "model", json: json)
    }

    func tokenize(_ word: String, into ids: inout [Int]) {}
    func tokenToId(_ token: String) -> Int? { nil }
    func idToToken(_ id: Int) -> String? { nil }
    var vocabSize: Int { 0 }
}
