import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A minimal HTTP/1.1 client on SwiftNIO: one connection per request (as SGLang's client opens a session
/// per request), the response body handed over chunk by chunk as it arrives, so stream events can be timed.
/// `https://` addresses go through TLS (swift-nio-ssl, the system's trust roots, the host name verified).
public struct BenchHTTPClient: Sendable {
    private let group: any EventLoopGroup
    /// Extra headers on every request (e.g. `Authorization`).
    public var headers: [(String, String)]

    /// A client on NIO's shared event loops.
    public init(headers: [(String, String)] = [], group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
        self.headers = headers
    }

    /// Sends one request and calls `onBody` with each body chunk as it arrives.
    /// - Returns: the response status code.
    /// - Throws: `BenchError.http` when the connection fails or closes before the response ends.
    public func send(method: HTTPMethod, url: BenchURL, body: [UInt8]? = nil,
                     onBody: (ArraySlice<UInt8>) async throws -> Void) async throws -> Int {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        let tls: NIOSSLContext?
        do {
            tls = url.tls ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        } catch {
            throw BenchError.http("cannot set up TLS for \(url.host): \(error)")
        }
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(30))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // SNI carries host names only; an IP literal is verified against the certificate's
                            // IP entries without it.
                            let handler = try NIOSSLClientHandler(context: tls,
                                                                  serverHostname: url.isIPLiteral ? nil : url.host)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw BenchError.http("cannot connect to \(url.host):\(url.port): \(error)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: url.path)
        head.headers.add(name: "Host", value: url.hostHeader)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Accept", value: "*/*")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        return try await exchange(channel, head: head, body: body,
                                  tlsPeer: url.tls ? "\(url.host):\(url.port)" : nil, onBody: onBody)
    }

    /// Writes the request and reads the response. With TLS, a failure before the response's head arrived is
    /// reported as the TLS failure it is (a failed handshake surfaces as an SSL error or, when the peer hangs up
    /// first, as a write on a closed channel).
    private func exchange(_ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>,
                          head: HTTPRequestHead, body: [UInt8]?, tlsPeer: String?,
                          onBody: (ArraySlice<UInt8>) async throws -> Void) async throws -> Int {
        try await channel.executeThenClose { inbound, outbound in
            var status: Int?
            do {
                // One write (one flush) for the whole request: a server that answers and closes as soon as it
                // has the head must not find a later part still to be written ("I/O on closed channel").
                var parts: [HTTPClientRequestPart] = [.head(head)]
                if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                parts.append(.end(nil))
                try await outbound.write(contentsOf: parts)
                for try await part in inbound {
                    switch part {
                    case .head(let responseHead):
                        status = Int(responseHead.status.code)
                    case .body(let buffer):
                        try await onBody(ArraySlice(buffer.readableBytesView))
                    case .end:
                        guard let status else { throw BenchError.http("a response ended without a status line") }
                        return status
                    }
                }
            } catch {
                if let tlsPeer, status == nil, !(error is BenchError) {
                    throw BenchError.http("TLS with \(tlsPeer) failed: \(error)")
                }
                throw error
            }
            if let tlsPeer, status == nil {
                throw BenchError.http("TLS with \(tlsPeer) failed: the server closed the connection")
            }
            throw BenchError.http("the server closed the connection before the response ended")
        }
    }

    /// Sends one request and returns the status and the whole body.
    public func fetch(method: HTTPMethod, url: BenchURL, body: [UInt8]? = nil) async throws -> (status: Int, body: [UInt8]) {
        var collected: [UInt8] = []
        let status = try await send(method: method, url: url, body: body) { collected += $0 }
        return (status, collected)
    }
}
