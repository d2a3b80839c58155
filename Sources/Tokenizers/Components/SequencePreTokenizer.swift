import JSON

/// `Sequence` of pre-tokenizers, each splitting the pieces of the previous one.
struct SequencePreTokenizer: PreTokenizer {
    let preTokenizers: [any PreTokenizer]

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "pre_tokenizer", json: json)
        preTokenizers = try f.array("pretokenizers").map { try makePreTokenizer($0) }
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var pieces = pieces
        for p in preTokenizers { pieces = p.preTokenize(pieces) }
        return pieces
    }
}
