import ArgumentParser
import Foundation
import ZooCore
import ZooEngine

extension Engine.RoundRule: ExpressibleByArgument {}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the forward pass: median ms per batch, images/s, achieved GFLOP/s (2 × MACs) and peak RSS.")

    @Argument(help: "A network of the zoo or a definition file.") var name: String
    @Option(help: "Batch size.") var batch: Int = 1
    @Option(help: "Threads (default: the cores this process may use).") var threads: Int?
    @Option(help: "Timed runs.") var runs: Int = 10
    @Option(help: "Untimed warm-up runs.") var warmup: Int = 2
    @Option(help: "Output layer (default: the network's output).") var output: String?
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Also time every convolution (one image) against bare SGEMM calls of its shapes.") var gemm = false
    @Option(help: ArgumentHelp("How steps ready together (an inception block's branches) share the threads: learned, side-by-side or one-at-a-time.",
                               valueName: "rule"))
    var rounds: Engine.RoundRule?
    @Option(help: ArgumentHelp("Alternate the timed runs with runs under this rule, in the same engine, and print both medians and the median of the pairs' ratios.",
                               valueName: "rule"))
    var against: Engine.RoundRule?
    @Flag(help: "After the warm-up, time one run for each line read from standard input and print its milliseconds, until the input ends: for a harness that alternates Zoo with another engine run by run (Benchmarks/engine_vs_onnxruntime.py).")
    var paced = false

    func run() throws {
        try reporting {
            guard batch > 0, runs > 0, warmup >= 0 else { throw ZooError("--batch and --runs must be positive") }
            guard !paced || (against == nil && !gemm) else { throw ZooError("--paced times single runs on request: not with --against or --gemm") }
            let network = try Catalogue.network(name)
            let summary = try Summary(network)
            let engine = try Engine(model: Model.randomlyInitialised(network, seed: 1), threads: threads)
            let rule = rounds ?? engine.roundRule
            engine.roundRule = rule
            let x = Tensor.randomNormal(shape: [batch] + network.input.dims, seed: 2)
            let outputs = output.map { [$0] } ?? []
            for _ in 0..<warmup { _ = try engine.run(x, outputs: outputs) }
            func timed() throws -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try engine.run(x, outputs: outputs)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            if paced {
                // One run per request, its time written at once (standard output is a pipe).
                while readLine() != nil {
                    FileHandle.standardOutput.write(Data(String(format: "%.4f\n", try timed()).utf8))
                }
                return
            }
            // With --against, each timed run is followed by one under the other rule: the two see
            // the same seconds of a shared machine's drift.
            var times: [Double] = [], others: [Double] = []
            for _ in 0..<runs {
                engine.roundRule = rule
                times.append(try timed())
                if let against {
                    engine.roundRule = against
                    others.append(try timed())
                }
            }
            let ratios = zip(others, times).map { $0 / $1 }.sorted()
            times.sort()
            others.sort()
            let median = times[times.count / 2]
            let imagesPerSecond = Double(batch) / (median / 1000)
            let gflops = 2 * Double(summary.macs) * Double(batch) / (median / 1000) / 1e9
            let rss = peakRSSKiB()
            if json {
                print(JSON.object([
                    ("network", .string(network.name)), ("batch", .int(batch)), ("threads", .int(engine.threads)), ("blas_kernels", .string(Engine.blasKernels)),
                    ("median_ms", .double(median)), ("min_ms", .double(times[0])), ("images_per_s", .double(imagesPerSecond)),
                    ("gflops", .double(gflops)), ("peak_rss_kib", .int(rss)), ("weight_bytes", .int(summary.weightBytes)),
                    ("rounds", .string(rule.rawValue)),
                ] + (engine.streamEnd(batch: batch).map { [("streams_end", .string($0))] } ?? [])
                  + (against.map { [("against", .string($0.rawValue)), ("against_median_ms", .double(others[others.count / 2])),
                                    ("against_ratio", .double(ratios[ratios.count / 2]))] } ?? [])).rendered())
            } else {
                print("\(network.name): batch \(batch), \(engine.threads) thread\(engine.threads == 1 ? "" : "s"), \(runs) runs, OpenBLAS kernels \(Engine.blasKernels)")
                print(String(format: "  median %.2f ms per batch (min %.2f), %.1f images/s, %.1f GFLOP/s", median, times[0], imagesPerSecond, gflops))
                print("  peak RSS \(Summary.bytes(rss * 1024)) (weights \(Summary.bytes(summary.weightBytes)))")
                if let end = engine.streamEnd(batch: batch) {
                    print("  image streams " + (end.isEmpty ? "through the whole network" : "up to \(end), then the whole batch layer by layer"))
                }
                if let against {
                    print(String(format: "  rounds %@: median %.2f ms; alternating with %@: median %.2f ms; median of the pairs' %@/%@ %.3f",
                                 rule.rawValue, median, against.rawValue, others[others.count / 2], against.rawValue, rule.rawValue,
                                 ratios[ratios.count / 2]))
                }
                if gemm {
                    let rows = GEMMComparison.measure(engine)
                    print("  convolution            method          M      N      K   layer ms   sgemm ms  sgemm/layer  im2col ms")
                    for r in rows {
                        // im2col ms: a direct convolution's layer through im2col, timed in alternation with it.
                        let other = r.im2colMilliseconds.map { String(format: " %10.2f", $0) } ?? ""
                        print(String(format: "  %-22@ %-11@ %6d %6d %6d %10.2f %10.2f %11.0f%%", r.layer as NSString, r.method as NSString,
                                     r.m, r.n, r.k, r.layerMilliseconds, r.gemmMilliseconds, r.fraction * 100) + other)
                    }
                    let layer = rows.reduce(0) { $0 + $1.layerMilliseconds }, sgemm = rows.reduce(0) { $0 + $1.gemmMilliseconds }
                    print(String(format: "  all convolutions: %.1f ms, their SGEMMs alone %.1f ms: %.0f%% of SGEMM's speed", layer, sgemm, sgemm / layer * 100))
                }
            }
        }
    }
}

/// The process's peak resident set size (VmHWM), in KiB; 0 where /proc is not available.
func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "0") ?? 0
    }
    return 0
}
