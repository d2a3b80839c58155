import Foundation
import JSON
import Testing

/// Locates the committed expectations (Tests/GrammarFixtures) and the shared SmolLM2 tokenizer from this file.
enum GrammarFixtures {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let repoRoot = testsDir.deletingLastPathComponent()
    static let sharedFixtures = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    static func load(_ name: String) throws -> JSONValue {
        let url = testsDir.appendingPathComponent("GrammarFixtures").appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FixtureError.missing("\(url.path) is missing; run scripts/make_grammar_fixtures.py")
        }
        return try JSONValue.parse(bytes: [UInt8](data))
    }

    static var smolLM2TokenizerPath: String {
        sharedFixtures.appendingPathComponent("smollm2/hf-tokenizer").path
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    static func missing(_ what: String) -> FixtureError { FixtureError(description: what) }
}

/// SplitMix64: a small deterministic generator so samples are the same on every run and platform.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
