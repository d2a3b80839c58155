import CUDA

/// What overlap scheduling keeps between the decode steps a model launched ahead (`CUDACausalLM.launchDecode`):
/// the last step's drawn ids on the device (the next step's carried inputs), a pinned result slot and an event for
/// each of the two steps that may be outstanding, and an event after the last step's uploads — the pinned staging
/// blocks are rewritten only once it has passed, since the copies out of them run when the device gets to them.
final class CUDALaunchedSteps {
    /// Steps launched so far (a step's sequence number picks its slot).
    var count = 0
    /// The ids the last launched step drew, and how many.
    let previousIds: CUDAGrowableBuffer
    var previousRows = 0
    /// Per slot: the pinned copy of a step's drawn ids, and the event after that copy.
    var results: [CUDAHostBuffer?] = [nil, nil]
    let drawn: [CUDAEvent]
    /// Recorded after the last launched step's host-to-device copies; `uploadsPending` until waited for.
    let uploaded: CUDAEvent
    var uploadsPending = false

    init(context: CUDAContext) throws {
        previousIds = CUDAGrowableBuffer(context: context)
        drawn = try [CUDAEvent(context: context, timing: false), CUDAEvent(context: context, timing: false)]
        uploaded = try CUDAEvent(context: context, timing: false)
    }

    /// Waits until the last launched step's uploads left the pinned blocks (before they are written again).
    func waitForUploads() throws {
        guard uploadsPending else { return }
        try uploaded.synchronize()
        uploadsPending = false
    }

    /// The pinned result block of slot `slot`, at least `bytes` long (the slot's previous step was read already).
    func resultBlock(_ slot: Int, bytes: Int, context: CUDAContext) throws -> CUDAHostBuffer {
        if let block = results[slot], block.byteCount >= bytes { return block }
        results[slot] = nil
        let block = try CUDAHostBuffer(context: context, byteCount: max(bytes, 4096))
        results[slot] = block
        return block
    }
}
