import Foundation
import JSON

/// `NFC`: canonical composition.
struct NFCNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String {
        // Pure ASCII is already in every normal form; skip Foundation's bridging cost.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.precomposedStringWithCanonicalMapping
    }
}

/// `NFD`: canonical decomposition.
struct NFDNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.decomposedStringWithCanonicalMapping
    }
}

/// `NFKC`: compatibility decomposition followed by canonical composition.
struct NFKCNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.precomposedStringWithCompatibilityMapping
    }
}

/// `NFKD`: compatibility decomposition.
struct NFKDNormalizer: Normalizer {
    init(json: JSONValue) throws {
        _ = try ComponentFields(kind: "normalizer", json: json)
    }

    func normalize(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.decomposedStringWithCompatibilityMapping
    }
}
