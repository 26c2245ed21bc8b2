/// Limited-memory BFGS for smooth convex objectives (the linear classifier's), with a backtracking
/// line search that enforces the Armijo condition and skips curvature pairs that would break the
/// positive-definite approximation.
struct LBFGS {
    var memory = 10
    var maxIterations = 500
    /// Stop when ‖gradient‖∞ falls below this.
    var gradientTolerance = 1e-6
    /// Stop when the objective improves by less than this, relatively.
    var relativeTolerance = 1e-10

    struct Result {
        var x: [Double]
        var value: Double
        var iterations: Int
        var converged: Bool
    }

    /// Minimises `f` from `x0`; `f` returns the value and writes the gradient.
    func minimize(_ x0: [Double], _ f: ([Double], inout [Double]) -> Double) -> Result {
        let n = x0.count
        var x = x0
        var g = [Double](repeating: 0, count: n)
        var value = f(x, &g)
        var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
        var iteration = 0
        while iteration < maxIterations {
            if g.map(abs).max() ?? 0 < gradientTolerance { return Result(x: x, value: value, iterations: iteration, converged: true) }
            iteration += 1
            // Two-loop recursion: d = −H·g.
            var q = g
            var alpha = [Double](repeating: 0, count: s.count)
            for i in stride(from: s.count - 1, through: 0, by: -1) {
                alpha[i] = rho[i] * dot(s[i], q)
                axpy(-alpha[i], y[i], &q)
            }
            if let ls = s.last, let ly = y.last { scale(&q, dot(ls, ly) / dot(ly, ly)) }
            for i in 0..<s.count {
                let beta = rho[i] * dot(y[i], q)
                axpy(alpha[i] - beta, s[i], &q)
            }
            var d = q.map { -$0 }
            var slope = dot(g, d)
            if slope >= 0 { d = g.map { -$0 }; slope = -dot(g, g); s.removeAll(); y.removeAll(); rho.removeAll() }
            // Backtracking line search (Armijo).
            var step = s.isEmpty ? min(1, 1 / max(1e-12, sqrt(dot(g, g)))) : 1
            var xNew = x, gNew = g, valueNew = value
            var accepted = false
            for _ in 0..<60 {
                for i in 0..<n { xNew[i] = x[i] + step * d[i] }
                valueNew = f(xNew, &gNew)
                if valueNew <= value + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            if !accepted { return Result(x: x, value: value, iterations: iteration, converged: false) }
            let sk = zip(xNew, x).map { $0 - $1 }, yk = zip(gNew, g).map { $0 - $1 }
            let sy = dot(sk, yk)
            if sy > 1e-12 * sqrt(dot(sk, sk) * dot(yk, yk)) {
                s.append(sk); y.append(yk); rho.append(1 / sy)
                if s.count > memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
            }
            let improvement = value - valueNew
            x = xNew; g = gNew
            let previous = value
            value = valueNew
            if improvement >= 0 && improvement <= relativeTolerance * max(1, abs(previous)) {
                return Result(x: x, value: value, iterations: iteration, converged: true)
            }
        }
        return Result(x: x, value: value, iterations: iteration, converged: false)
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var r = 0.0
        for i in 0..<a.count { r += a[i] * b[i] }
        return r
    }
    private func axpy(_ a: Double, _ x: [Double], _ y: inout [Double]) { for i in 0..<y.count { y[i] += a * x[i] } }
    private func scale(_ v: inout [Double], _ a: Double) { for i in 0..<v.count { v[i] *= a } }
}

import Foundation
