import JSON

/// What a splitting pre-tokenizer does with the delimiters it finds (HF `SplitDelimiterBehavior`).
enum SplitDelimiterBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    init(fields f: ComponentFields, key: String = "behavior", default d: SplitDelimiterBehavior? = nil) throws {
        guard let name = try f.optionalString(key) else {
            if let d { self = d; return }
            _ = try f.string(key)  // throws "missing field"
            self = .removed
            return
        }
        // tokenizer.json writes PascalCase; accept the snake_case of the Python API too.
        let pascal = name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        guard let b = SplitDelimiterBehavior(rawValue: name) ?? SplitDelimiterBehavior(rawValue: pascal) else {
            throw f.invalid("unknown \(key) '\(name)' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)")
        }
        self = b
    }

    /// Splits `piece` at `spans` (a partition of its UTF-8 bytes) the way HF's `NormalizedString::split` does,
    /// appending the non-empty results to `output`.
    func split(_ piece: PreToken, bytes: [UInt8], spans: [PatternSpan], into output: inout [PreToken]) {
        // (start, end, remove)
        var parts: [(Int, Int, Bool)] = []
        parts.reserveCapacity(spans.count)
        switch self {
        case .removed:
            for s in spans { parts.append((s.start, s.end, s.isMatch)) }
        case .isolated:
            for s in spans { parts.append((s.start, s.end, false)) }
        case .contiguous:
            var previousMatch = false
            for s in spans {
                if s.isMatch == previousMatch, !parts.isEmpty {
                    parts[parts.count - 1].1 = s.end
                } else {
                    parts.append((s.start, s.end, false))
                }
                previousMatch = s.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for s in spans {
                if s.isMatch && !previousMatch, !parts.isEmpty {
                    parts[parts.count - 1].1 = s.end
                } else {
                    parts.append((s.start, s.end, false))
                }
                previousMatch = s.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for s in spans.reversed() {
                if s.isMatch && !previousMatch, !parts.isEmpty {
                    parts[parts.count - 1].0 = s.start
                } else {
                    parts.append((s.start, s.end, false))
                }
                previousMatch = s.isMatch
            }
            parts.reverse()
        }
        for (start, end, remove) in parts where !remove && end > start {
            if start == 0 && end == bytes.count {
                output.append(piece)
            } else {
                output.append(PreToken(text: String(decoding: bytes[start..<end], as: UTF8.self),
                                       atTextStart: piece.atTextStart && start == 0))
            }
        }
    }

    /// Spans where each scalar satisfying `isDelimiter` is its own match (HF's `Fn(char) -> bool` pattern).
    static func characterSpans(_ text: String, _ isDelimiter: (Unicode.Scalar) -> Bool) -> [PatternSpan] {
        var spans: [PatternSpan] = []
        var offset = 0
        var gapStart = 0
        for s in text.unicodeScalars {
            let width = UTF8.width(s)
            if isDelimiter(s) {
                if gapStart != offset { spans.append(PatternSpan(start: gapStart, end: offset, isMatch: false)) }
                spans.append(PatternSpan(start: offset, end: offset + width, isMatch: true))
                gapStart = offset + width
            }
            offset += width
        }
        if gapStart != offset || spans.isEmpty {
            spans.append(PatternSpan(start: gapStart, end: offset, isMatch: false))
        }
        return spans
    }
}
