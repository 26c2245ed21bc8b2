import Foundation

/// The learning curve as a small standalone SVG: train and test error (%) per epoch.
enum LearningCurve {
    static func svg(history: [[Double]], title: String) -> String {
        let width = 640.0, height = 360.0, left = 60.0, right = 20.0, top = 40.0, bottom = 50.0
        let epochs = history.map { $0[0] }
        let train = history.map { $0[2] * 100 }, test = history.map { $0[4] * 100 }
        let maxError = max((train + test).max() ?? 1, 1)
        let yMax = (maxError / 5).rounded(.up) * 5
        let xMax = max(epochs.max() ?? 1, 1)
        func x(_ e: Double) -> Double { left + (e - 1) / max(xMax - 1, 1) * (width - left - right) }
        func y(_ v: Double) -> Double { top + (1 - v / yMax) * (height - top - bottom) }
        func path(_ values: [Double]) -> String {
            zip(epochs, values).enumerated().map { i, p in (i == 0 ? "M" : "L") + String(format: "%.1f,%.1f", x(p.0), y(p.1)) }.joined(separator: " ")
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(Int(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">\(title.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;"))</text>\n"
        for k in 0...5 {
            let v = yMax * Double(k) / 5
            s += String(format: "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left, y(v), width - right, y(v))
            s += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n", left - 6, y(v) + 4, v)
        }
        let step = max(1, Int((xMax / 10).rounded(.up)))
        for e in stride(from: 1, through: Int(xMax), by: step) {
            s += String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>\n", x(Double(e)), height - bottom + 18, e)
        }
        s += "<text x=\"\(Int(width / 2))\" y=\"\(Int(height - 10))\" text-anchor=\"middle\">epoch</text>\n"
        s += "<path d=\"\(path(train))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
        s += "<path d=\"\(path(test))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
        s += "<text x=\"\(Int(width - right - 150))\" y=\"\(Int(top + 16))\" fill=\"#1f77b4\">train error</text>\n"
        s += "<text x=\"\(Int(width - right - 150))\" y=\"\(Int(top + 32))\" fill=\"#d62728\">test error</text>\n"
        return s + "</svg>\n"
    }
}
