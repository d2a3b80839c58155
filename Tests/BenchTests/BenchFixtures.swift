import Foundation
import Testing

/// Paths of the shared fixtures (`../shared/fixtures` beside the repository).
enum BenchFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "missing \(path)" }
    }

    /// `../shared/fixtures/<relative>`, or a recorded failure naming it.
    static func shared(_ relative: String) throws -> String {
        let path = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/\(relative)").path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("shared fixture missing: \(path)")
            throw Missing(path: path)
        }
        return path
    }

    /// A fresh temporary file path.
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)-\(name)").path
    }
}
