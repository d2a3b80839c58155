/// An `http://host:port/path` address (the benchmark client speaks plain HTTP/1.1 only).
public struct BenchURL: Sendable, Hashable, CustomStringConvertible {
    /// Whether the connection uses TLS (`https://`).
    public var tls: Bool
    public var host: String
    public var port: Int
    /// Path and query, starting with "/".
    public var path: String

    /// An address from its parts.
    public init(host: String, port: Int, path: String = "/", tls: Bool = false) {
        self.tls = tls
        self.host = host
        self.port = port
        self.path = path.hasPrefix("/") ? path : "/" + path
    }

    /// Parses `http[s]://host[:port][/path]` (port 80 or 443 by default; IPv6 hosts in brackets).
    /// - Throws: `BenchError.invalidArgument` for another scheme or a malformed address.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        let tls = lower.hasPrefix("https://")
        guard tls || lower.hasPrefix("http://") else {
            throw BenchError.invalidArgument("only http:// and https:// URLs are supported, found \(text)")
        }
        let rest = text.dropFirst(tls ? "https://".count : "http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = rest[slash...]
        var host = Substring(authority)
        var port = tls ? 443 : 80
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
        self.init(host: String(host), port: port, path: path.isEmpty ? "/" : String(path), tls: tls)
    }

    /// The same server with another path.
    public func appending(path suffix: String) -> BenchURL {
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        return BenchURL(host: host, port: port, path: base + (suffix.hasPrefix("/") ? suffix : "/" + suffix), tls: tls)
    }

    /// Whether the host is an IPv4 or IPv6 address rather than a name.
    public var isIPLiteral: Bool {
        host.contains(":") || (!host.isEmpty && host.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber })
    }

    /// The `Host` header: the port is left out when it is the scheme's default.
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (tls ? 443 : 80) ? h : "\(h):\(port)"
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(tls ? "https" : "http")://\(h):\(port)\(path)"
    }
}
