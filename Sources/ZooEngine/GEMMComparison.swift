import CBLAS
import Foundation
import ZooCore

/// How close each convolution gets to OpenBLAS's SGEMM on the GEMM shapes it calls: the layer alone,
/// run as the engine runs it (im2col + GEMM + bias/ReLU, one image, on the engine's threads) against
/// bare `cblas_sgemm` calls with the same M, N, K, threaded by OpenBLAS over the same threads.
public struct GEMMComparison: Sendable {
    public struct Row: Sendable {
        public var layer: String
        /// How the engine convolves this layer (`ConvolutionKernel.method`): "im2col", "direct",
        /// "gemm" (1×1), "winograd" or "winograd4" (whose layer time is then compared with the
        /// SGEMM that im2col would need: it can beat it), "+zoo" where the GEMM is Zoo's.
        public var method: String
        public var m: Int, n: Int, k: Int
        public var layerMilliseconds: Double
        public var gemmMilliseconds: Double
        public var fraction: Double { gemmMilliseconds / layerMilliseconds }
        /// Where the layer runs as a direct convolution: the same layer through im2col, timed in
        /// alternation with it (the direct form's gain is `im2colMilliseconds / layerMilliseconds`).
        public var im2colMilliseconds: Double?
    }

    /// Times every convolution of `engine` (median of `runs`) and the SGEMM of its shapes.
    public static func measure(_ engine: Engine, runs: Int = 5) -> [Row] {
        Engine.exclusive(threads: engine.threads) { measureLocked(engine, runs: runs) }
    }

    private static func measureLocked(_ engine: Engine, runs: Int) -> [Row] {
        var rows: [Row] = []
        for step in engine.steps {
            guard case .convolution(let unfolded, let folded, _) = step.operation else { continue }
            let raw = folded ?? unfolded   // the form the engine runs
            let input = Buffer(count: raw.inChannels * raw.height * raw.width)
            for i in 0..<input.count { input.pointer[i] = Float(i % 7) - 3 }
            let output = Buffer(count: raw.filters * raw.outHeight * raw.outWidth)
            let threads = engine.threads
            let workspaces = (0..<threads).map { _ in Buffer(count: max(raw.workspacePerThread(batch: 1, threads: threads), 1)) }
            func median(_ body: () -> Void) -> Double {
                body()
                var t: [Double] = []
                for _ in 0..<runs {
                    let s = DispatchTime.now().uptimeNanoseconds
                    body()
                    t.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e6)
                }
                return t.sorted()[t.count / 2]
            }
            openblas_set_num_threads(1)
            let run = { (k: ConvolutionKernel, spaces: [Buffer]) in
                k.run(batch: 1, threads: threads, input.pointer, output.pointer, workspaces: spaces.map(\.pointer))
            }
            var layer = median { run(raw, workspaces) }
            var im2col: Double?
            if raw.direct != nil {
                // The two forms in alternation, so that the machine's drift touches both alike.
                var plain = raw
                plain.direct = nil
                let spaces = (0..<threads).map { _ in Buffer(count: max(plain.workspacePerThread(batch: 1, threads: threads), 1)) }
                var a: [Double] = [], b: [Double] = []
                for _ in 0..<max(runs, 5) {
                    a.append(median { run(raw, workspaces) })
                    b.append(median { run(plain, spaces) })
                }
                layer = a.sorted()[a.count / 2]
                im2col = b.sorted()[b.count / 2]
            }
            openblas_set_num_threads(Int32(threads))
            let m = raw.filters / raw.groups, k = raw.columnRows, n = raw.outHeight * raw.outWidth
            let a = Buffer(count: m * k), b = Buffer(count: k * n), c = Buffer(count: m * n)
            for i in 0..<a.count { a.pointer[i] = 0.01 }
            for i in 0..<b.count { b.pointer[i] = 0.02 }
            let gemm = median {
                for _ in 0..<raw.groups {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a.pointer, Int32(k), b.pointer, Int32(n), 0, c.pointer, Int32(n))
                }
            }
            rows.append(Row(layer: step.name, method: raw.method, m: m, n: n, k: k, layerMilliseconds: layer, gemmMilliseconds: gemm,
                            im2colMilliseconds: im2col))
        }
        return rows
    }
}
