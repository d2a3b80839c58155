import JSON

/// `Sequence` of post-processors, applied in order.
struct SequencePostProcessor: PostProcessor {
    let processors: [any PostProcessor]

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "post_processor", json: json)
        processors = try f.array("processors").map { try makePostProcessor($0) }
    }

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        var ids = ids
        for p in processors { ids = p.process(ids, addSpecialTokens: addSpecialTokens) }
        return ids
    }
}
