import Foundation

/// SGLang-style log lines on stderr (`[2025-01-01 12:00:00] message`), filtered by `--log-level`.
struct ServerLog: Sendable {
    enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error, critical
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    let level: Level

    init(_ name: String) {
        switch name.lowercased() {
        case "debug": level = .debug
        case "warning": level = .warning
        case "error": level = .error
        case "critical": level = .critical
        default: level = .info
        }
    }

    func log(_ l: Level, _ message: @autoclosure () -> String) {
        guard l >= level else { return }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let prefix = l == .info ? "" : "\(l) ".uppercased()
        FileHandle.standardError.write(Data("[\(formatter.string(from: Date()))] \(prefix)\(message())\n".utf8))
    }

    func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    func warning(_ m: @autoclosure () -> String) { log(.warning, m()) }
    func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
}
