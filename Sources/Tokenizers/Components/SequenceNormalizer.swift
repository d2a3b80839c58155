import JSON

/// `Sequence` of normalizers, applied in order.
struct SequenceNormalizer: Normalizer {
    let normalizers: [any Normalizer]

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "normalizer", json: json)
        normalizers = try f.array("normalizers").map { try makeNormalizer($0) }
    }

    func normalize(_ text: String) -> String {
        var text = text
        for n in normalizers { text = n.normalize(text) }
        return text
    }
}
