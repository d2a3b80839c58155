import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client on SwiftNIO: one connection per request (as SGLang's client opens a session
/// per request), the response body handed over chunk by chunk as it arrives, so stream events can be timed.
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
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(30))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw BenchError.http("cannot connect to \(url.host):\(url.port): \(error)")
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: url.path)
        head.headers.add(name: "Host", value: url.port == 80 ? url.host : "\(url.host):\(url.port)")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Accept", value: "*/*")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(head))
            if let body, !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            var status: Int?
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
