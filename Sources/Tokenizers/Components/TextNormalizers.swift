import JSON

/// `Lowercase`: every character through Unicode's full lowercase mapping, one character at a time
/// (no context-dependent rules such as final sigma, like Rust's `char::to_lowercase`).
struct LowercaseNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String {
        Self.lowercase(text)
    }

    static func lowercase(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes = Array(text.utf8)
            for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] += 0x20 }
            return String(decoding: bytes, as: UTF8.self)
        }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value < 0x80 {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(UInt8(s.value + 0x20)) : s)
            } else if s.properties.changesWhenLowercased {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }
}

/// `Strip`: removes leading and/or trailing whitespace (Unicode White_Space).
struct StripNormalizer: Normalizer {
    let left: Bool
    let right: Bool

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "normalizer", json: json)
        left = try f.bool("strip_left", default: true)
        right = try f.bool("strip_right", default: true)
    }

    func normalize(_ text: String) -> String {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        if left {
            while start < end, CharacterClasses.isWhitespace(scalars[start]) { start = scalars.index(after: start) }
        }
        if right {
            while end > start {
                let before = scalars.index(before: end)
                guard CharacterClasses.isWhitespace(scalars[before]) else { break }
                end = before
            }
        }
        if start == scalars.startIndex && end == scalars.endIndex { return text }
        return String(scalars[start..<end])
    }
}

/// `StripAccents`: deletes combining marks. Models apply NFD first so accents are separate marks.
struct StripAccentsNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String {
        Self.stripMarks(text)
    }

    static func stripMarks(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0xCC }) { return text }  // no scalar ≥ U+0300 possible
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars where !CharacterClasses.isCombiningMark(s) { out.append(s) }
        return String(out)
    }
}

/// `Replace`: replaces every match of a literal string or a regex with `content`.
struct ReplaceNormalizer: Normalizer {
    let pattern: TextPattern
    let content: String

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "normalizer", json: json)
        pattern = try TextPattern(fields: f)
        content = try f.string("content")
    }

    func normalize(_ text: String) -> String {
        pattern.replaceAll(in: text, with: content)
    }
}

/// `Prepend`: puts `prepend` in front of any non-empty text.
struct PrependNormalizer: Normalizer {
    let prefix: String

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "normalizer", json: json)
        prefix = try f.string("prepend")
    }

    func normalize(_ text: String) -> String {
        text.isEmpty ? text : prefix + text
    }
}
