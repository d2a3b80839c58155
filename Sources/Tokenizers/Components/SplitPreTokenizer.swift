import JSON

/// `Split`: splits at the matches of a literal or regex pattern with one of the five delimiter
/// behaviors; `invert` swaps what counts as the delimiter.
struct SplitPreTokenizer: PreTokenizer {
    let pattern: TextPattern
    let behavior: SplitDelimiterBehavior
    let invert: Bool

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "pre_tokenizer", json: json)
        pattern = try TextPattern(fields: f)
        behavior = try SplitDelimiterBehavior(fields: f)
        invert = try f.bool("invert", default: false)
    }

    func preTokenize(_ pieces: [PreToken]) -> [PreToken] {
        var output: [PreToken] = []
        for piece in pieces {
            var spans = pattern.spans(in: piece.text)
            if invert {
                for i in spans.indices { spans[i].isMatch.toggle() }
            }
            behavior.split(piece, bytes: Array(piece.text.utf8), spans: spans, into: &output)
        }
        return output
    }
}
