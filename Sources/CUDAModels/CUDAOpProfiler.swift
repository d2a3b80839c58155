import CUDA
import Foundation

/// Per-op GPU time of eager forwards (`SGLANG_CUDA_PROFILE=N`: a table on stderr every N forwards). Events are
/// recorded between ops on the model's stream; the time from one mark to the next is charged to the first
/// mark's label. Graph replays are not split (run with `--disable-cuda-graph` to see a decode step).
final class CUDAOpProfiler {
    private let events: [CUDAEvent]
    private var labels: [String] = []
    private var totals: [String: Double] = [:]
    private var order: [String] = []
    private var forwards = 0
    private let every: Int

    /// A profiler when `SGLANG_CUDA_PROFILE` is a positive number, else nil.
    static func fromEnvironment(context: CUDAContext) -> CUDAOpProfiler? {
        guard let text = ProcessInfo.processInfo.environment["SGLANG_CUDA_PROFILE"], let every = Int(text), every > 0
        else { return nil }
        return try? CUDAOpProfiler(context: context, every: every)
    }

    init(context: CUDAContext, every: Int) throws {
        events = try (0..<1024).map { _ in try CUDAEvent(context: context) }
        self.every = every
    }

    /// Starts timing `label` (ends the previous op).
    func mark(_ label: String, on stream: CUDAStream) throws {
        guard labels.count < events.count - 1 else { return }
        try events[labels.count].record(on: stream)
        labels.append(label)
    }

    /// Ends the forward: waits for its events, charges each op, and prints a table every `every` forwards.
    func finish(on stream: CUDAStream) throws {
        guard !labels.isEmpty else { return }
        let last = events[labels.count]
        try last.record(on: stream)
        try last.synchronize()
        for (i, label) in labels.enumerated() {
            let ms = Double(try events[i + 1].elapsed(since: events[i]))
            if totals[label] == nil { order.append(label) }
            totals[label, default: 0] += ms
        }
        labels.removeAll(keepingCapacity: true)
        forwards += 1
        guard forwards % every == 0 else { return }
        let sum = totals.values.reduce(0, +)
        var text = String(format: "CUDA profile: %d forwards, %.3f ms per forward\n", every, sum / Double(every))
        for label in order {
            let ms = (totals[label] ?? 0) / Double(every)
            text += String(format: "  %-22@ %8.3f ms  %5.1f%%\n", label as NSString, ms, 100 * ms / max(sum / Double(every), 1e-9))
        }
        FileHandle.standardError.write(Data(text.utf8))
        totals.removeAll()
        order.removeAll()
    }
}
