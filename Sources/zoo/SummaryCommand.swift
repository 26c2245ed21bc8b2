import ArgumentParser
import ZooCore

extension Summary.Format: ExpressibleByArgument {}

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a network's layers: output shapes, kernels, parameters, MACs, receptive fields, totals and the paper check.")

    @Argument(help: "A network of the zoo (see `zoo list`) or a path to a definition file (.yaml, or file.yaml#NAME).")
    var name: String

    @Option(help: "Input shape C,H,W (or N for a vector input) instead of the definition's.")
    var input: String?

    @Option(help: "Batch size for the activation memory figures.")
    var batch: Int = 1

    @Option(help: "Block levels to expand (0: one row per top-level block). Default: every layer for networks without blocks, 0 otherwise.")
    var depth: Int?

    @Option(help: "table, markdown, csv or json.")
    var format: Summary.Format = .table

    func run() throws {
        try reporting {
            var network = try Catalogue.network(name)
            if let input {
                let dims = input.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
                    throw ZooError("--input must be positive sizes like 3,224,224, got `\(input)`")
                }
                network = network.with(input: Shape(dims.map { $0! }))
            }
            let summary = try Summary(network, batch: batch)
            let checks = input == nil ? try network.verify() : []
            let level = depth ?? (network.info.blocks.isEmpty ? nil : 0)
            print(summary.render(format, depth: level, paper: checks), terminator: "")
        }
    }
}
