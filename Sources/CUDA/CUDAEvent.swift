import CCUDA

/// A timing event, destroyed with the object.
public final class CUDAEvent: @unchecked Sendable {
    // @unchecked: immutable handle.
    /// The owning context.
    public let context: CUDAContext
    /// The event handle.
    public let handle: CUevent

    /// Creates an event (with timing unless `timing` is false).
    public init(context: CUDAContext, timing: Bool = true) throws {
        self.context = context
        try context.bind()
        var e: CUevent?
        let flags = UInt32(timing ? CCUDA_EVENT_DEFAULT : CCUDA_EVENT_DISABLE_TIMING)
        try context.driver.check(context.driver.api.pointee.cuEventCreate(&e, flags), "cuEventCreate")
        guard let e else { throw CUDAError.driver(function: "cuEventCreate", code: -1, name: "NULL", message: "no event") }
        handle = e
    }

    deinit {
        _ = try? context.bind()
        _ = context.driver.api.pointee.cuEventDestroy(handle)
    }

    /// Records the event on `stream`.
    public func record(on stream: CUDAStream) throws {
        try context.bind()
        try context.driver.check(context.driver.api.pointee.cuEventRecord(handle, stream.handle), "cuEventRecord")
    }

    /// Waits for the event.
    public func synchronize() throws {
        try context.bind()
        try context.driver.check(context.driver.api.pointee.cuEventSynchronize(handle), "cuEventSynchronize")
    }

    /// Milliseconds from `start` to this event (both recorded and complete).
    public func elapsed(since start: CUDAEvent) throws -> Float {
        try context.bind()
        var ms: Float = 0
        try context.driver.check(
            context.driver.api.pointee.cuEventElapsedTime(&ms, start.handle, handle), "cuEventElapsedTime")
        return ms
    }
}
