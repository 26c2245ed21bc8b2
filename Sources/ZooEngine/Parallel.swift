import Dispatch

/// Work shared among threads: 0..<count cut into `parts` contiguous ranges (part t is
/// count·t/parts ..< count·(t+1)/parts), run in parallel; `body` gets the part's index (for its own
/// workspace) and its range. Empty ranges are skipped; a single part runs on the calling thread.
func shareOut(_ count: Int, parts: Int, _ body: @Sendable (_ part: Int, _ range: Range<Int>) -> Void) {
    let parts = max(1, parts)
    if parts == 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: parts) { t in
        let first = count * t / parts, last = count * (t + 1) / parts
        if first < last { body(t, first..<last) }
    }
}
