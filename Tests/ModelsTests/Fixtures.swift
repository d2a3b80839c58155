import Foundation
import JSON
import Testing

/// Locates shared reference data (`../shared/fixtures` beside the repository) and this target's resources.
enum Fixtures {
    /// The repository root: …/Tests/ModelsTests/Fixtures.swift → three levels up.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/fixtures` next to the repository.
    static let sharedFixtures: URL = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    /// The tiny random-weight models.
    static let tinyNames = ["llama", "llama31", "llama-tied-mha", "qwen2", "qwen3", "mistral", "gemma2",
                            "mixtral", "qwen2_moe", "qwen3_moe"]

    /// The real-model configs.
    static let realConfigNames = ["llama-3.1-70b", "llama-3.1-8b", "mistral-7b-v0.3", "mixtral-8x7b",
                                  "qwen2.5-7b", "qwen3-30b-a3b", "qwen3-8b", "smollm2-135m"]

    /// A path under the shared fixtures, failing the test with a clear message when it is missing.
    static func shared(_ relative: String) throws -> String {
        let path = sharedFixtures.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("shared fixture missing: \(path) (expected ../shared/fixtures beside the repository)")
            throw FixtureMissing(path: path)
        }
        return path
    }

    /// A file in Tests/ModelsTests/Resources.
    static func resource(_ name: String) throws -> String {
        let path = repoRoot.appendingPathComponent("Tests/ModelsTests/Resources").appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("test resource missing: \(path) (regenerate with scripts/make_models_fixtures.py)")
            throw FixtureMissing(path: path)
        }
        return path
    }

    /// Parses a JSON file.
    static func json(_ path: String) throws -> JSONValue {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONValue.parse(bytes: [UInt8](data))
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "missing fixture \(path)" }
    }
}
