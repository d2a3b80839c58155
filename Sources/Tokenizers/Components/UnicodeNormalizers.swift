import Foundation
import JSON

/// The four Unicode normalization forms as Hugging Face tokenizers computes them.
///
/// HF's normalization tables are Unicode 9.0: a character assigned later has no decomposition, combining
/// class 0 and no compositions there. Foundation knows newer Unicode, so such characters are kept verbatim
/// and normalization runs on the text between them. Foundation also fails to compose some sequences that
/// appear only after a compatibility decomposition or with Hangul LV + T jamo; NFKC is therefore NFC of the
/// NFKD text, followed by an algorithmic Hangul composition pass.
enum UnicodeNormalization {
    enum Form: Sendable {
        case nfc, nfd, nfkc, nfkd
    }

    /// True for characters HF's Unicode 9.0 tables do not know.
    @inline(__always)
    static func isNewerThanHF(_ s: Unicode.Scalar) -> Bool {
        guard let age = s.properties.age else { return false }
        return age.major > 9 || (age.major == 9 && age.minor > 0)
    }

    static func normalize(_ text: String, _ form: Form) -> String {
        // ASCII is already in every normal form; skip Foundation's bridging cost.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        var out = ""
        var chunk = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value >= 0x300 && isNewerThanHF(s) {
                out += normalizeChunk(String(chunk), form)
                chunk.removeAll()
                out.unicodeScalars.append(s)
            } else {
                chunk.append(s)
            }
        }
        out += normalizeChunk(String(chunk), form)
        return out
    }

    private static func normalizeChunk(_ text: String, _ form: Form) -> String {
        if text.isEmpty { return text }
        switch form {
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .nfc: return composeHangul(text.precomposedStringWithCanonicalMapping)
        case .nfkc:
            return composeHangul(text.decomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping)
        }
    }

    // Hangul syllable arithmetic (Unicode §3.12).
    private static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    private static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
    private static let nCount = vCount * tCount, sCount = lCount * vCount * tCount

    /// Composes L+V and LV+T jamo sequences that are still decomposed.
    private static func composeHangul(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value >= 0x1100 && $0.value <= 0x11FF }) else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            if let last = out.last {
                let l = last.value, v = s.value
                if l >= lBase && l < lBase + lCount && v >= vBase && v < vBase + vCount,
                   let composed = Unicode.Scalar(sBase + ((l - lBase) * vCount + (v - vBase)) * tCount) {
                    out[out.count - 1] = composed
                    continue
                }
                if l >= sBase && l < sBase + sCount && (l - sBase) % tCount == 0 && v > tBase && v < tBase + tCount,
                   let composed = Unicode.Scalar(l + (v - tBase)) {
                    out[out.count - 1] = composed
                    continue
                }
            }
            out.append(s)
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: out)
        return String(view)
    }
}

/// `NFC`: canonical composition.
struct NFCNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { UnicodeNormalization.normalize(text, .nfc) }
}

/// `NFD`: canonical decomposition.
struct NFDNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { UnicodeNormalization.normalize(text, .nfd) }
}

/// `NFKC`: compatibility decomposition followed by canonical composition.
struct NFKCNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { UnicodeNormalization.normalize(text, .nfkc) }
}

/// `NFKD`: compatibility decomposition.
struct NFKDNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String { UnicodeNormalization.normalize(text, .nfkd) }
}
