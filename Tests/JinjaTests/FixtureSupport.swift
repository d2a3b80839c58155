import Foundation
import JSON
import Testing

@testable import Jinja

/// Locates `../shared/fixtures` from this file's path: Tests/JinjaTests/X.swift → repo root → ../shared.
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// Reads a fixture file; a missing file is a test failure with a message that says where it looked.
    static func text(_ relative: String) throws -> String {
        let u = url(relative)
        guard FileManager.default.fileExists(atPath: u.path) else {
            throw FixtureMissing(path: u.path)
        }
        return try String(contentsOf: u, encoding: .utf8)
    }

    /// One JSON object per non-empty line.
    static func jsonLines(_ relative: String) throws -> [JSONValue] {
        try text(relative).split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "shared fixture not found at \(path); the tests expect the shared fixtures checked out next to the repository (../shared/fixtures)"
        }
    }
}

/// Renders `source` with JSON-ish context values, for unit tests.
func render(_ source: String, _ context: [String: Value] = [:]) throws -> String {
    try Template(source).render(context)
}
