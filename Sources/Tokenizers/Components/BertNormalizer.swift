import Foundation
import JSON

/// `BertNormalizer`: BERT's text cleanup, in HF's order: clean_text (drop control characters, map
/// whitespace to a space), pad CJK ideographs with spaces, strip accents (NFD + drop nonspacing marks), lowercase.
struct BertNormalizer: Normalizer {
    let cleanText: Bool
    let handleChineseChars: Bool
    let stripAccents: Bool
    let lowercase: Bool

    init(json: JSONValue) throws {
        let f = try ComponentFields(kind: "normalizer", json: json)
        cleanText = try f.bool("clean_text", default: true)
        handleChineseChars = try f.bool("handle_chinese_chars", default: true)
        lowercase = try f.bool("lowercase", default: true)
        // A null strip_accents follows lowercase, as in the original BERT.
        stripAccents = try f.optionalBool("strip_accents") ?? lowercase
    }

    func normalize(_ text: String) -> String {
        var result = text
        if cleanText || handleChineseChars {
            var out = String.UnicodeScalarView()
            for s in result.unicodeScalars {
                if cleanText {
                    if s.value == 0 || s.value == 0xFFFD || CharacterClasses.isBertControl(s) { continue }
                    if CharacterClasses.isWhitespace(s) {
                        out.append(" ")
                        continue
                    }
                }
                if handleChineseChars && CharacterClasses.isChineseCharacter(s) {
                    out.append(" ")
                    out.append(s)
                    out.append(" ")
                } else {
                    out.append(s)
                }
            }
            result = String(out)
        }
        if stripAccents && !result.utf8.allSatisfy({ $0 < 0x80 }) {
            // Only nonspacing marks go (unlike StripAccents, which also drops spacing marks).
            var out = String.UnicodeScalarView()
            for s in UnicodeNormalization.normalize(result, .nfd).unicodeScalars where !CharacterClasses.isBertAccent(s) {
                out.append(s)
            }
            result = String(out)
        }
        if lowercase {
            result = LowercaseNormalizer.lowercase(result)
        }
        return result
    }
}
