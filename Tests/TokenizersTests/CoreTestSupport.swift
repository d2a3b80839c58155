import Foundation
import JSON
@testable import Tokenizers

/// Locates shared fixtures and test resources for the core tokenizer tests.
enum CoreFixtures {
    /// `/work/shared/fixtures` found from this file: …/Tests/TokenizersTests/File.swift → repo → ../shared.
    static func sharedFixtures(filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "shared fixture missing: \(path) (expected ../shared/fixtures next to the repository)" }
    }

    /// The path of a shared fixture, or an error saying it is missing.
    static func path(_ relative: String) throws -> String {
        let url = sharedFixtures().appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(path: url.path) }
        return url.path
    }

    /// Reads every line of a JSONL fixture.
    static func jsonLines(_ relative: String) throws -> [JSONValue] {
        let p = try path(relative)
        let text = try String(contentsOfFile: p, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    /// A test resource of this target (`Tests/TokenizersTests/Resources/<name>`).
    static func resource(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "Resources/" + name, withExtension: nil)
            ?? Bundle.module.url(forResource: name, withExtension: nil) else {
            throw Missing(path: "Tests/TokenizersTests/Resources/\(name)")
        }
        return url.path
    }

    /// The SmolLM2 tokenizer built by transformers from the GGUF (shared, loaded once).
    static let smollm2: Result<Tokenizer, any Error> = Result {
        try Tokenizer.load(from: try path("smollm2/hf-tokenizer"))
    }
}
