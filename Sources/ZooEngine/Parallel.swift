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

/// As `shareOut`, with the cut between two threads' shares placed by how fast each thread has
/// been running: on a virtual machine the other tenants slow one core at a time, for seconds (one
/// thread took 1.2× the other's time per unit of work over a whole `zoo bench` run, the other way
/// round in the next), and a half-and-half cut leaves the faster thread waiting for the slower.
/// Each call times both shares and moves the caller's fraction a quarter of the way towards the
/// fraction that would have finished both at once. Other thread counts share statically, and so
/// does `movable: false`: work whose numbers depend on where a share begins (OpenBLAS's SGEMM
/// rounds a row or column differently with its share's bounds — Zoo's kernels give each output
/// the same sums wherever it falls), where a run must still give the numbers of the last.
/// `balance` is the engine's, shared by every call (a test may give its own).
func shareBalanced(_ count: Int, parts: Int, movable: Bool = true, balance: Balance = WorkerPool.balance,
                   _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void) {
    guard parts == 2, count >= 2, movable, WorkerPool.balanced else { return shareOut(count, parts: parts, body) }
    let cut = balance.cut(count)
    let timings = Timings()
    let part = { @Sendable (t: Int) in
        let start = DispatchTime.now().uptimeNanoseconds
        body(t, t == 0 ? 0..<cut : cut..<count)
        timings.record(t, DispatchTime.now().uptimeNanoseconds - start)
    }
    guard WorkerPool.shared.run(parts: 2, part) else {
        // Dispatch's threads: which part ran on the caller's core is unknown, nothing to learn.
        return DispatchQueue.concurrentPerform(iterations: 2, execute: part)
    }
    balance.update(callerUnits: cut, callerTime: timings.time(0), workerUnits: count - cut, workerTime: timings.time(1))
}

/// Each part's time in one `shareBalanced`.
final class Timings: Sendable {
    private let caller = Atomic<Int>(0), worker = Atomic<Int>(0)
    func record(_ part: Int, _ ns: UInt64) {
        if part == 0 { caller.store(Int(ns), ordering: .relaxed) } else { worker.store(Int(ns), ordering: .relaxed) }
    }
    func time(_ part: Int) -> Int { part == 0 ? caller.load(ordering: .relaxed) : worker.load(ordering: .relaxed) }
}

/// The caller's fraction of the work in `shareBalanced` (the worker's is the rest).
final class Balance: Sendable {
    /// The fraction in 1/65536.
    private let fraction = Atomic<Int>(32768)
    var callerFraction: Double { Double(fraction.load(ordering: .relaxed)) / 65536 }

    /// Where the caller's share of 0..<count (count ≥ 2) ends: neither share empty.
    func cut(_ count: Int) -> Int { min(count - 1, max(1, Int((Double(count) * callerFraction).rounded()))) }

    /// Starts the caller's fraction again from `value` (tests: cuts elsewhere give the same numbers).
    func reset(to value: Double) { fraction.store(Int(min(0.7, max(0.3, value)) * 65536), ordering: .relaxed) }

    /// The fraction that would have had both shares finish together, approached by a quarter; shares
    /// under 20 µs are not timed well enough to count.
    func update(callerUnits: Int, callerTime: Int, workerUnits: Int, workerTime: Int) {
        guard callerTime > 20_000, workerTime > 20_000 else { return }
        let callerSpeed = Double(callerUnits) / Double(callerTime), workerSpeed = Double(workerUnits) / Double(workerTime)
        let target = callerSpeed / (callerSpeed + workerSpeed)
        let old = callerFraction
        let new = min(0.7, max(0.3, old + (target - old) / 4))
        fraction.store(Int(new * 65536), ordering: .relaxed)
    }
}

/// Whether a round of ready steps (an inception block's branches, a residual block's first
/// convolution beside its projection) runs faster side by side — each group of steps on one
/// thread — or one step at a time on all threads, learned from the engine's own runs: the first
/// two times a round comes it runs side by side (the second time's time kept), the third time one
/// at a time (each step's time alone kept); from then on the faster by those times (each an
/// average moved a quarter of the way to every new time), the other way tried again every 8th
/// time so that a change of speed is seen. Multiply-adds do not say which is faster: two convolutions side by
/// side each read their input on one core, and a 3 × 3 convolution by Winograd does fewer
/// multiplications than its count says (ResNet-50's three projections beside the convolution next
/// to them took 1.5–2 ms side by side, 0.8 ms each alone on two threads).
final class RoundChoices: @unchecked Sendable {
    /// `Engine.roundRule`.
    var rule = Engine.defaultRoundRule
    private let lock = NSLock()
    private var together: [[Int]: Double] = [:], alone: [Int: Double] = [:], visits: [[Int]: Int] = [:]

    /// Whether the round of steps `key` (sorted) goes side by side this time.
    func sideBySide(_ key: [Int]) -> Bool {
        lock.withLock {
            let visit = visits[key, default: 0] + 1
            visits[key] = visit
            guard let t = together[key] else { return true }
            var sum = 0.0
            for step in key {
                guard let a = alone[step] else { return false }
                sum += a
            }
            return (t < sum) != (visit % 8 == 0)
        }
    }

    /// The time of round `key` side by side, in ns; not the first time, which pays for the
    /// engine's first touch of its buffers (GoogLeNet's rounds 1.5× their later times).
    func record(_ key: [Int], together ns: UInt64) {
        lock.withLock { if visits[key, default: 0] > 1 { together[key] = Self.blend(together[key], Double(ns)) } }
    }

    /// The time of `step` alone on all threads, in ns.
    func record(_ step: Int, alone ns: UInt64) { lock.withLock { alone[step] = Self.blend(alone[step], Double(ns)) } }

    private static func blend(_ old: Double?, _ new: Double) -> Double { old.map { $0 + (new - $0) / 4 } ?? new }
}

/// Indices 0, 1, 2, … handed out one at a time to whichever thread asks next.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    /// The next index, nil once it reaches `end`.
    func next(below end: Int) -> Int? {
        let n = value.wrappingAdd(1, ordering: .relaxed).oldValue
        return n < end ? n : nil
    }
}

/// Threads that wait for work by spinning for a while (about 0.1 ms) before they sleep, so that
/// handing a layer's share to another core costs a few microseconds: Dispatch's
/// `concurrentPerform` wakes its threads each time, which cost GoogLeNet, ~150 hand-offs per
/// image, several milliseconds on two threads. One worker per core beyond the caller's; one user
/// at a time (a nested or concurrent `run` gets false and the caller uses Dispatch).
///
/// A worker that finds itself on the caller's CPU as it takes a job moves to another
/// (`zoo_leave_cpu`): woken from its sleep, Linux may queue it on the waker's CPU, where it waits
/// behind the caller's own share and spin, and the two may stay there together for a whole run.
/// On the 2-vCPU machine, AlexNet at batch 1 on two threads with 100 ms between runs (an
/// application that runs the engine now and then): a quarter to a half of the runs took twice
/// the time, the worker on the caller's CPU at most of that run's 15 hand-offs; moved, the median
/// 9.95 ms against 17.93 and the 75th percentile 10.9 against 20.0 (`Benchmarks/paced_ab.py
/// "ZOO_APART=0" "X=1" alexnet-torchvision --gap 100`). `ZOO_APART=0` leaves the worker where it
/// is (to compare).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    final class Worker: @unchecked Sendable {
        /// Jobs posted and jobs finished (the worker runs the job when the two differ).
        let posted = Atomic<Int>(0), finished = Atomic<Int>(0)
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
        /// The job, its part and the CPU the poster runs on, written before `posted` is raised.
        var job: ((Int) -> Void)?
        var part = 0, callerCPU: Int32 = -1
    }

    let workers: [Worker]
    private let busy = Atomic<Bool>(false)
    /// Pauses before a waiting worker sleeps.
    static let spins = 4000
    /// How `shareBalanced` cuts; `ZOO_BALANCE=0` to cut in halves (to compare).
    static let balance = Balance()
    static let balanced = ProcessInfo.processInfo.environment["ZOO_BALANCE"] != "0"
    static let apart = ProcessInfo.processInfo.environment["ZOO_APART"] != "0"

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
            // callerCPU is -1 under ZOO_APART=0 (see `run`).
            if w.callerCPU >= 0, zoo_current_cpu() == w.callerCPU { _ = zoo_leave_cpu(w.callerCPU) }
            w.job?(w.part)
            w.finished.store(seen, ordering: .releasing)
        }
    }

    /// Runs `body(t)` for t in 0..<parts, part 0 on the calling thread, and returns when all are
    /// done; false (nothing run) when the pool has too few workers or is in use.
    func run(parts: Int, _ body: (Int) -> Void) -> Bool {
        guard parts >= 2, parts - 1 <= workers.count,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        let cpu = WorkerPool.apart ? zoo_current_cpu() : -1
        withoutActuallyEscaping(body) { body in
            for t in 1..<parts {
                let w = workers[t - 1]
                w.job = body
                w.part = t
                w.callerCPU = cpu
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
