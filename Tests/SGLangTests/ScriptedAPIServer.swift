import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-thread HTTP/1.1 server on 127.0.0.1 standing in for a hosted API that cannot run here (Anthropic's):
/// it records every request it reads (head and body, as bytes arrived) and answers each with a scripted
/// response written in chunks (chunked transfer encoding), as an SSE stream would arrive. Its blocking socket
/// calls run on a thread of its own, never on the cooperative pool. (Adapted from BenchTests'
/// ScriptedHTTPServer: a test target cannot import another.)
final class ScriptedAPIServer: Sendable {
    /// One response.
    struct Script: Sendable {
        var status = 200
        var contentType = "application/json"
        /// Body pieces, each written as one HTTP chunk.
        var pieces: [String]
        var pause: Double = 0.005
    }

    let port: Int
    private let listener: Int32
    private let requests = Mutex<[String]>([])

    /// Starts listening on a free port; `script` picks the response for the n-th request (0-based) and its text.
    init(script: @escaping @Sendable (Int, String) -> Script) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in
            var n = 0
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                let request = Self.readRequest(client)
                requests.withLock { $0.append(request) }
                Self.respond(client, script(n, request))
                close(client)
                n += 1
            }
        }
        thread.start()
    }

    /// The requests read so far (head and body).
    var received: [String] { requests.withLock { $0 } }

    /// The base URL (`http://127.0.0.1:port`).
    var url: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting connections.
    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    private static func readRequest(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[..<n]
            let text = String(decoding: data, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { continue }
            let head = text[..<headEnd.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            if data.count - text[..<headEnd.upperBound].utf8.count >= length { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func respond(_ fd: Int32, _ script: Script) {
        func send(_ s: String) { _ = Array(s.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        send("HTTP/1.1 \(script.status) Scripted\r\nContent-Type: \(script.contentType)\r\n"
             + "Transfer-Encoding: chunked\r\n\r\n")
        for piece in script.pieces {
            usleep(useconds_t(script.pause * 1e6))
            send(String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n")
        }
        send("0\r\n\r\n")
    }
}
