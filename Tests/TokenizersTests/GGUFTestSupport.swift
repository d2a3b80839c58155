import Foundation
import GGUF
import JSON

/// Locates the GGUF files and reference outputs used by the GGUF tokenizer tests.
enum GGUFFixtures {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// The repository root, found from this file: …/Tests/TokenizersTests/File.swift.
    static func repositoryRoot(filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// A file under `../shared/fixtures`, or an error saying it is missing.
    static func shared(_ relative: String) throws -> String {
        let url = repositoryRoot().deletingLastPathComponent().appendingPathComponent("shared/fixtures/\(relative)")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Missing(description: "shared fixture missing: \(url.path) (expected ../shared/fixtures next to the repository)")
        }
        return url.path
    }

    /// The SmolLM2 GGUF: `$SGLANG_SMOLLM2_GGUF` or `models/SmolLM2-135M-Instruct.Q4_1.gguf`.
    static func smollm2GGUF() throws -> String {
        if let path = ProcessInfo.processInfo.environment["SGLANG_SMOLLM2_GGUF"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw Missing(description: "SGLANG_SMOLLM2_GGUF points to \(path), which does not exist")
            }
            return path
        }
        let path = repositoryRoot().appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "SmolLM2 GGUF not found at \(path): run scripts/fetch-smollm2.sh (or set SGLANG_SMOLLM2_GGUF)")
        }
        return path
    }

    /// A file of `Tests/TokenizersTests/Resources/gguf/`.
    static func resource(_ name: String) throws -> String {
        let bundled = Bundle.module.url(forResource: "Resources/gguf/" + name, withExtension: nil)
        guard let url = bundled else {
            throw Missing(description: "test resource missing: Tests/TokenizersTests/Resources/gguf/\(name)")
        }
        return url.path
    }

    /// Parses a JSON file.
    static func json(_ path: String) throws -> JSONValue {
        try JSONValue.parse(String(contentsOfFile: path, encoding: .utf8))
    }

    /// Parses every line of a JSONL file.
    static func jsonLines(_ path: String) throws -> [JSONValue] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    /// The synthetic GGUF vocabularies made by scripts/make_gguf_tokenizer_fixtures.py.
    static let syntheticNames = ["llama-spm", "phi3-spm", "gemma-spm", "gpt2-default", "gpt2-llama3"]
}
