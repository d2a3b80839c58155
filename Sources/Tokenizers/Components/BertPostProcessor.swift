import JSON

/// Reads a `[token, id]` pair such as BertProcessing's `cls` and `sep`.
private func tokenIdPair(_ f: ComponentFields, _ key: String) throws -> Int {
    let pair = try f.array(key)
    guard pair.count == 2, pair[0].stringValue != nil, let id = pair[1].intValue, id >= 0 else {
        throw f.invalid("\(key) must be a [token, id] pair")
    }
    return id
}

/// `BertProcessing`: `[CLS] sequence [SEP]`.
struct BertPostProcessor: PostProcessor {
    let clsId: Int
    let sepId: Int

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "post_processor", json: json)
        clsId = try tokenIdPair(f, "cls")
        sepId = try tokenIdPair(f, "sep")
    }

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        addSpecialTokens ? [clsId] + ids + [sepId] : ids
    }
}

/// `RobertaProcessing`: `<s> sequence </s>` for a single sequence (offset trimming does not change ids).
struct RobertaPostProcessor: PostProcessor {
    let clsId: Int
    let sepId: Int

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "post_processor", json: json)
        clsId = try tokenIdPair(f, "cls")
        sepId = try tokenIdPair(f, "sep")
    }

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        addSpecialTokens ? [clsId] + ids + [sepId] : ids
    }
}
