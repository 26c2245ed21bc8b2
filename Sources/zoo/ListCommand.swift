import ArgumentParser
import ZooCore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every architecture with its input size, parameters, MACs and paper.")

    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        try reporting {
            var rows: [[String]] = []
            var objects: [JSON] = []
            for file in try Catalogue.files() {
                for entry in file.entries {
                    let network = try file.network(named: entry.name)
                    let summary = try Summary(network)
                    rows.append([entry.name, entry.aliases.joined(separator: ", "), network.input.description,
                                 Summary.grouped(summary.trainable), summary.nonTrainable == 0 ? "" : Summary.grouped(summary.nonTrainable),
                                 Summary.human(Double(summary.macs), unit: ""),
                                 file.family, entry.description])
                    objects.append(.object([
                        ("name", .string(entry.name)), ("aliases", .array(entry.aliases.map(JSON.string))),
                        ("input", .array(network.input.dims.map(JSON.int))), ("params", .int(summary.parameters)), ("trainable", .int(summary.trainable)),
                        ("macs", .int(summary.macs)), ("family", .string(file.family)), ("paper", .string(file.citation)),
                    ]))
                }
            }
            if json { print(JSON.array(objects).rendered(pretty: true)); return }
            let header = ["Name", "Aliases", "Input", "Trainable", "+ fixed", "MACs", "Family", "Description"]
            let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
            func line(_ r: [String]) -> String {
                r.enumerated().map { i, c in
                    let pad = String(repeating: " ", count: widths[i] - c.count)
                    return (3...5).contains(i) ? pad + c : c + pad
                }.joined(separator: "  ").trimmingTrailingSpaces()
            }
            print(line(header))
            for r in rows { print(line(r)) }
            print("\nTrainable: learned parameters (BN γ and β included). + fixed: values a weight file carries that training does not\nchange (BN running statistics, LeNet-5's RBF prototypes). MACs: multiply-accumulates per image.\n\nPapers:")
            for file in try Catalogue.files() { print("  \(file.family): \(file.citation)") }
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
