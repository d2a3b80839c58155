import Foundation

/// Small file-system helpers shared by the config and weight loaders.
enum ModelFiles {
    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// Reads a whole (small) file: configs and indexes, never weights.
    static func readBytes(_ path: String) throws -> [UInt8] {
        guard exists(path) else { throw ModelError.fileUnreadable(path: path, reason: "no such file") }
        guard !isDirectory(path) else { throw ModelError.fileUnreadable(path: path, reason: "is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.fileUnreadable(path: path, reason: "permission denied or I/O error")
        }
        return [UInt8](data)
    }
}
