import JSON

/// `Sequence` of decoders, each transforming the token strings of the previous one.
struct SequenceDecoder: TokenDecoder {
    let decoders: [any TokenDecoder]

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "decoder", json: json)
        decoders = try f.array("decoders").map { try makeDecoder($0) }
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        var tokens = tokens
        for d in decoders { tokens = d.decodeChain(tokens) }
        return tokens
    }
}
