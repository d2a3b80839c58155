import Dispatch
import Foundation

/// Thin wrappers so the kernels' files need not import Foundation.
enum DispatchQueueBridge {
    static func concurrentPerform(iterations: Int, _ body: @Sendable (Int) -> Void) {
        DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
    }
}

enum ProcessInfoBridge {
    static var activeProcessorCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}
