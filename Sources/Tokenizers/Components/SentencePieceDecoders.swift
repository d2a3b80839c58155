import JSON

/// `Metaspace` decoder: the replacement character becomes a space; in the first token it is dropped
/// instead (unless `prepend_scheme` is never), undoing the prepended one.
struct MetaspaceDecoder: TokenDecoder {
    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "decoder", json: json)
        replacement = try PrependScheme.replacement(fields: f).unicodeScalars.first ?? "\u{2581}"
        prependScheme = try PrependScheme(fields: f)
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() {
            let dropReplacement = i == 0 && prependScheme != .never
            var text = String.UnicodeScalarView()
            for s in token.unicodeScalars {
                if s == replacement {
                    if !dropReplacement { text.append(" ") }
                } else {
                    text.append(s)
                }
            }
            out.append(String(text))
        }
        return out
    }
}

/// `ByteFallback` decoder: runs of `<0xNN>` tokens become their UTF-8 text; a run that is not valid
/// UTF-8 becomes one U+FFFD per byte, as HF does.
struct ByteFallbackDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    /// The byte of a `<0xNN>` token (exactly six characters, two hex digits), or nil.
    static func byteValue(_ token: String) -> UInt8? {
        let u = token.utf8
        guard u.count == 6 else { return nil }
        let b = Array(u)
        guard b[0] == UInt8(ascii: "<"), b[1] == UInt8(ascii: "0"), b[2] == UInt8(ascii: "x"),
              b[5] == UInt8(ascii: ">") else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard let hi = hex(b[3]), let lo = hex(b[4]) else { return nil }
        return hi << 4 | lo
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(tokens.count)
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                out.append(text)
            } else {
                out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll(keepingCapacity: true)
        }
        for token in tokens {
            if let byte = Self.byteValue(token) {
                pending.append(byte)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }
}

/// `Fuse` decoder: concatenates all tokens into one.
struct FuseDecoder: TokenDecoder {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "decoder", json: json)
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        [tokens.joined()]
    }
}

/// `Strip` decoder: removes up to `start` leading and `stop` trailing `content` characters of every token.
struct StripDecoder: TokenDecoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "decoder", json: json)
        let text = try f.string("content")
        guard text.unicodeScalars.count == 1, let c = text.unicodeScalars.first else {
            throw f.invalid("content must be a single character, found \(text.debugDescription)")
        }
        content = c
        start = max(0, try f.int("start"))
        stop = max(0, try f.int("stop"))
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let chars = Array(token.unicodeScalars)
            let c = content
            var lo = 0
            while lo < min(start, chars.count) && chars[lo] == c { lo += 1 }
            var hi = chars.count
            var removed = 0
            while removed < stop && hi > 0 && chars[hi - 1] == c {
                hi -= 1
                removed += 1
            }
            // HF slices chars[lo..<hi]; when both ends overlap nothing is left.
            guard lo < hi else { return "" }
            if lo == 0 && hi == chars.count { return token }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: chars[lo..<hi])
            return String(view)
        }
    }
}

/// `Replace` decoder: replaces a literal or regex pattern in every token.
struct ReplaceDecoder: TokenDecoder {
    let pattern: TextPattern
    let content: String

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "decoder", json: json)
        pattern = try TextPattern(fields: f)
        content = try f.string("content")
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { pattern.replaceAll(in: $0, with: content) }
    }
}
