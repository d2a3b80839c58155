import Foundation

/// Appends lines to a JSONL file.
enum JSONLFile {
    static func append(_ line: String, to path: String) throws {
        let data = Data((line + "\n").utf8)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: data) else {
                throw BenchError.invalidArgument("cannot create \(path)")
            }
            return
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } catch {
            throw BenchError.invalidArgument("cannot append to \(path): \(error)")
        }
    }
}
