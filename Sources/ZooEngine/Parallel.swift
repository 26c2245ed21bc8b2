import CZooGEMM
import Dispatch
import Foundation
import Synchronization

/// Work shared among threads: 0..<count cut into `parts` contiguous ranges (part t is
/// count·t/parts ..< count·(t+1)/parts), run in parallel; `body` gets the part's index (for its own
/// workspace) and its range. Empty ranges are skipped; a single part runs on the calling thread.
/// Part 0 runs on the caller, the others on `WorkerPool.shared`'s threads where it is free, else
/// through Dispatch.
func shareOut(_ count: Int, parts: Int, _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void) {
    let parts = max(1, parts)
    if parts == 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    let part = { @Sendable (t: Int) in
        let first = count * t / parts, last = count * (t + 1) / parts
        if first < last { body(t, first..<last) }
    }
    if WorkerPool.shared.run(parts: parts, part) { return }
    DispatchQueue.concurrentPerform(iterations: parts, execute: part)
}

/// Threads that wait for work by spinning for a while (about 0.1 ms) before they sleep, so that
/// handing a layer's share to another core costs a few microseconds: Dispatch's
/// `concurrentPerform` wakes its threads each time, which cost GoogLeNet, ~150 hand-offs per
/// image, several milliseconds on two threads. One worker per core beyond the caller's; one user
/// at a time (a nested or concurrent `run` gets false and the caller uses Dispatch).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    final class Worker: @unchecked Sendable {
        /// Jobs posted and jobs finished (the worker runs the job when the two differ).
        let posted = Atomic<Int>(0), finished = Atomic<Int>(0)
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
        /// The job and its part, written by the poster before `posted` is raised.
        var job: ((Int) -> Void)?
        var part = 0
    }

    let workers: [Worker]
    private let busy = Atomic<Bool>(false)
    /// Pauses before a waiting worker sleeps.
    static let spins = 4000

    init(workers count: Int) {
        workers = (0..<count).map { _ in Worker() }
        for w in workers {
            let thread = Thread { WorkerPool.serve(w) }
            thread.name = "zoo-worker"
            thread.start()
        }
    }

    private static func serve(_ w: Worker) {
        var seen = 0
        while true {
            var spun = 0
            while w.posted.load(ordering: .acquiring) == seen {
                if spun < spins {
                    zoo_cpu_relax()
                    spun += 1
                    continue
                }
                // Sleep, unless a job came in between (its poster then sees `sleeping` and signals).
                w.sleeping.store(true, ordering: .sequentiallyConsistent)
                if w.posted.load(ordering: .sequentiallyConsistent) == seen { w.wake.wait() }
                w.sleeping.store(false, ordering: .sequentiallyConsistent)
                spun = 0
            }
            seen = w.posted.load(ordering: .acquiring)
            w.job?(w.part)
            w.finished.store(seen, ordering: .releasing)
        }
    }

    /// Runs `body(t)` for t in 0..<parts, part 0 on the calling thread, and returns when all are
    /// done; false (nothing run) when the pool has too few workers or is in use.
    func run(parts: Int, _ body: (Int) -> Void) -> Bool {
        guard parts >= 2, parts - 1 <= workers.count,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        withoutActuallyEscaping(body) { body in
            for t in 1..<parts {
                let w = workers[t - 1]
                w.job = body
                w.part = t
                w.posted.wrappingAdd(1, ordering: .sequentiallyConsistent)
                if w.sleeping.load(ordering: .sequentiallyConsistent) { w.wake.signal() }
            }
            body(0)
            for t in 1..<parts {
                let w = workers[t - 1]
                while w.finished.load(ordering: .acquiring) != w.posted.load(ordering: .relaxed) { zoo_cpu_relax() }
                w.job = nil
            }
        }
        busy.store(false, ordering: .releasing)
        return true
    }
}
