import Hummingbird
import NIOCore

/// The request context of the server's routes: Hummingbird's core context plus the connection, which the
/// generation routes watch so a client that disconnects aborts its request.
struct ServerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's connection.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
