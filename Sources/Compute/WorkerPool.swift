import CQuantKernels
import Dispatch
import Foundation
import Synchronization

/// Persistent worker threads for the short data-parallel regions of a forward pass (a decode step runs
/// about 150 of them, each some microseconds long, where `DispatchQueue.concurrentPerform` pays a thread
/// wake-up per region).
///
/// Each `run` publishes one immutable `Region` (iteration count, a raw pointer to the caller's body, an
/// atomic next-index and an atomic done-count). The caller claims iterations itself, as do the workers
/// that are awake; once every index is claimed it waits only for the iterations that were claimed by
/// others and are still running. A worker that wakes late finds the region exhausted and does nothing, so
/// a descheduled worker never stalls the caller (beyond an iteration it had already claimed).
///
/// Idle workers spin for `spinNanoseconds` (back-to-back regions of one step then start without a
/// system call), then park on a semaphore. Spinning only pays while every thread has a core: when the
/// machine is oversubscribed a spinning worker burns its share of the CPU, gets preempted, and is then
/// often preempted in the middle of an iteration the caller must wait for. So the first worker samples
/// the process's involuntary context switches every `probeInterval`; at `contendedSwitches` or more per
/// interval, workers park as soon as a region is done (each region then wakes them, as Dispatch would).
///
/// One region is in flight at a time: a second caller (another thread, or a body that itself calls
/// `run`) runs its iterations inline instead of waiting.
final class WorkerPool: Sendable {
    /// The process-wide pool: one worker per core besides the calling thread.
    static let shared = WorkerPool(workers: Parallel.threadCount - 1)

    /// Worker threads (the caller of `run` is one more participant).
    let workerCount: Int
    /// How long an idle worker polls for the next region before it parks.
    let spinNanoseconds: UInt64

    private let generation = Atomic<UInt64>(0)
    private let current = Mutex<Region?>(nil)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    /// Whether idle workers may spin (false while the machine looks oversubscribed).
    private let spinAllowed = Atomic<Bool>(true)
    private let slots: [Slot]

    /// Default spin before parking; `SGLANG_WORKER_SPIN_US` overrides it (microseconds).
    static let defaultSpinNanoseconds: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["SGLANG_WORKER_SPIN_US"], let us = UInt64(text) {
            return us * 1000
        }
        return 100_000
    }()

    /// How often the first worker samples the involuntary context switches (nanoseconds).
    static let probeInterval: UInt64 = 100_000_000
    /// Involuntary context switches of the process per `probeInterval` from which the machine counts as
    /// oversubscribed: a thread that always has a core sees almost none; on this 2-core VM at load 7 a busy
    /// thread saw about 13 per 100 ms.
    static let contendedSwitches = 5

    /// Starts `workers` threads (none when `workers` ≤ 0: every `run` is then inline). With
    /// `startThreads` false the workers exist but never run, like threads that are never scheduled
    /// (tests use it to check that a caller never waits for a worker that took no work).
    init(workers: Int, spinNanoseconds: UInt64 = WorkerPool.defaultSpinNanoseconds, startThreads: Bool = true) {
        workerCount = max(0, workers)
        self.spinNanoseconds = spinNanoseconds
        slots = (0..<max(0, workers)).map { _ in Slot() }
        for (index, slot) in slots.enumerated() where startThreads {
            let thread = Thread { [self] in workerLoop(slot, probes: index == 0) }
            thread.name = "sglang-worker-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Calls `body(i)` for every `i` in `0..<iterations`, exactly once each, on the calling thread and
    /// the pool's workers; returns when all calls have returned. `body` must be safe to call concurrently
    /// for different indices (callers give each index a disjoint slice of the output).
    func run(_ iterations: Int, _ body: (Int) -> Void) {
        guard iterations > 0 else { return }
        guard iterations > 1, workerCount > 0,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            for i in 0..<iterations { body(i) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        // Workers reach `body` only through the region's raw pointer, and only for an index they claimed
        // while the caller is still inside `run` (it waits for every claimed index), so no worker holds the
        // closure once `withoutActuallyEscaping` returns.
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { pointer in
                let region = Region(count: iterations, body: UnsafeRawPointer(pointer))
                current.withLock { $0 = region }
                generation.add(1, ordering: .sequentiallyConsistent)
                for slot in slots where slot.sleeping.load(ordering: .sequentiallyConsistent) {
                    if slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) { slot.wake.signal() }
                }
                region.participate()
                region.waitForClaimed()
            }
        }
    }

    /// Stops the workers (a pool made for a test; the shared pool lives as long as the process).
    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        for slot in slots where slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            slot.wake.signal()
        }
    }

    private func workerLoop(_ slot: Slot, probes: Bool) {
        var seen = generation.load(ordering: .acquiring)
        var lastProbe = Self.nanoseconds(), lastSwitches = Self.involuntarySwitches()
        while !stopping.load(ordering: .relaxed) {
            if probes {
                let time = Self.nanoseconds()
                if time &- lastProbe >= Self.probeInterval {
                    let switches = Self.involuntarySwitches()
                    spinAllowed.store(switches &- lastSwitches < Self.contendedSwitches, ordering: .relaxed)
                    lastProbe = time
                    lastSwitches = switches
                }
            }
            var now = generation.load(ordering: .acquiring)
            if now == seen {
                now = spin(until: seen)
                if now == seen { now = park(slot, seen: seen) }
                if now == seen { continue }
            }
            seen = now
            if let region = current.withLock({ $0 }) { region.participate() }
        }
    }

    /// Polls the generation for up to `spinNanoseconds`; returns it (still `seen` on a timeout).
    private func spin(until seen: UInt64) -> UInt64 {
        guard spinNanoseconds > 0, spinAllowed.load(ordering: .relaxed) else { return seen }
        let start = Self.nanoseconds()
        while true {
            for _ in 0..<64 {
                let now = generation.load(ordering: .acquiring)
                if now != seen { return now }
                cqk_cpu_relax()
            }
            if Self.nanoseconds() &- start > spinNanoseconds { return seen }
        }
    }

    /// Sleeps until a caller publishes a region after `seen` (Dekker-style handshake: the worker stores
    /// `sleeping` then reads the generation, the caller stores the generation then reads `sleeping`, all
    /// sequentially consistent, so at least one of them sees the other).
    private func park(_ slot: Slot, seen: UInt64) -> UInt64 {
        slot.sleeping.store(true, ordering: .sequentiallyConsistent)
        if generation.load(ordering: .sequentiallyConsistent) != seen {
            // Already a new region: withdraw, or consume the signal a caller has committed to sending.
            if !slot.sleeping.exchange(false, ordering: .sequentiallyConsistent) { slot.wake.wait() }
        } else {
            slot.wake.wait()
        }
        return generation.load(ordering: .acquiring)
    }

    /// The process's involuntary context switches so far (all threads).
    private static func involuntarySwitches() -> Int {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return usage.ru_nivcsw
    }

    private static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension WorkerPool {
    /// One worker's parking place.
    fileprivate final class Slot: Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    /// One parallel region: immutable apart from its two counters.
    fileprivate final class Region: Sendable {
        let count: Int
        /// Points at the caller's `(Int) -> Void`; valid while the caller is inside `run`, which is
        /// guaranteed whenever an index below `count` was claimed and is not yet done.
        nonisolated(unsafe) let body: UnsafeRawPointer
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)

        init(count: Int, body: UnsafeRawPointer) {
            self.count = count
            self.body = body
        }

        /// Claims and runs iterations until none are left.
        func participate() {
            while next.load(ordering: .relaxed) < count {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < count else { return }
                invoke(i)
                done.add(1, ordering: .releasing)
            }
        }

        /// Calls the body; not inlined so the closure copy is released before `done` is incremented.
        @inline(never)
        private func invoke(_ i: Int) {
            body.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i)
        }

        /// Waits until every iteration has returned (all are claimed when the caller gets here): spins,
        /// then yields the core so a descheduled worker that holds an iteration can finish it.
        func waitForClaimed() {
            var spins = 0
            while done.load(ordering: .acquiring) < count {
                if spins < 4096 {
                    spins += 1
                    cqk_cpu_relax()
                } else {
                    sched_yield()
                }
            }
        }
    }
}
