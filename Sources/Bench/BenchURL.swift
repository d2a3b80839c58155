/// An `http://host:port/path` address (the benchmark client speaks plain HTTP/1.1 only).
public struct BenchURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Path and query, starting with "/".
    public var path: String

    /// An address from its parts.
    public init(host: String, port: Int, path: String = "/") {
        self.host = host
        self.port = port
        self.path = path.hasPrefix("/") ? path : "/" + path
    }

    /// Parses `http://host[:port][/path]` (port 80 by default; IPv6 hosts in brackets).
    /// - Throws: `BenchError.invalidArgument` for another scheme or a malformed address.
    public init(parsing text: String) throws {
        guard text.hasPrefix("http://") else {
            throw BenchError.invalidArgument("only http:// URLs are supported, found \(text)")
        }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = rest[slash...]
        var host = Substring(authority)
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw BenchError.invalidArgument("unterminated IPv6 host in \(text)")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw BenchError.invalidArgument("bad port in \(text)")
                }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw BenchError.invalidArgument("bad port in \(text)")
            }
            port = p
        }
        guard !host.isEmpty else { throw BenchError.invalidArgument("no host in \(text)") }
        self.init(host: String(host), port: port, path: path.isEmpty ? "/" : String(path))
    }

    /// The same server with another path.
    public func appending(path suffix: String) -> BenchURL {
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        return BenchURL(host: host, port: port, path: base + (suffix.hasPrefix("/") ? suffix : "/" + suffix))
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(h):\(port)\(path)"
    }
}
