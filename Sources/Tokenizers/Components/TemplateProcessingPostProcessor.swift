import JSON

/// `TemplateProcessing`: the `single` template — special tokens (`{"SpecialToken": {"id": name}}`, whose ids
/// come from the `special_tokens` map) around the sequence (`{"Sequence": {"id": "A"}}`).
struct TemplateProcessingPostProcessor: PostProcessor {
    private enum Piece: Sendable {
        case sequence
        case special([Int])
    }

    private let single: [Piece]

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "post_processor", json: json)
        var specials: [String: [Int]] = [:]
        if let map = f.value("special_tokens") {
            guard let object = map.objectValue else {
                throw f.invalid("special_tokens must be an object, found \(map.typeName)")
            }
            for (name, entry) in object {
                guard let ids = entry["ids"]?.arrayValue else {
                    throw f.invalid("special_tokens['\(name)'] has no 'ids' array")
                }
                specials[name] = try ids.map { v in
                    guard let id = v.intValue, id >= 0 else {
                        throw f.invalid("special_tokens['\(name)'].ids must be non-negative integers")
                    }
                    return id
                }
            }
        }
        single = try Self.parseTemplate(f.value("single"), specials: specials, fields: f)
    }

    /// A template is an array of pieces; older files may write it as a string such as "[CLS] $A [SEP]".
    private static func parseTemplate(_ value: JSONValue?, specials: [String: [Int]],
                                      fields f: ComponentFields) throws -> [Piece] {
        guard let value else { return [.sequence] }
        func special(_ name: String) throws -> Piece {
            guard let ids = specials[name] else {
                throw f.invalid("the template uses special token '\(name)' missing from special_tokens")
            }
            return .special(ids)
        }
        if let text = value.stringValue {
            return try text.split(separator: " ").map { word -> Piece in
                let w = String(word)
                if w.hasPrefix("$") {
                    return .sequence
                }
                // "[CLS]:0" carries a type id after the colon.
                let name = w.split(separator: ":", maxSplits: 1).first.map(String.init) ?? w
                return try special(name)
            }
        }
        guard let items = value.arrayValue else {
            throw f.invalid("single must be an array, found \(value.typeName)")
        }
        return try items.map { item in
            if let s = item["SpecialToken"] {
                guard let name = s["id"]?.stringValue else { throw f.invalid("SpecialToken without a string id") }
                return try special(name)
            }
            if item["Sequence"] != nil { return .sequence }
            throw f.invalid("template items must be SpecialToken or Sequence objects")
        }
    }

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        guard addSpecialTokens else { return ids }
        var out: [Int] = []
        out.reserveCapacity(ids.count + 4)
        for piece in single {
            switch piece {
            case .sequence: out.append(contentsOf: ids)
            case .special(let s): out.append(contentsOf: s)
            }
        }
        return out
    }
}
