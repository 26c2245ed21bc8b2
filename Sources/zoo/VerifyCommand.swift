import ArgumentParser
import ZooCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every figure the papers (and reference implementations) publish against what the definitions compute.",
        discussion: "Exit status 0 only if every check passes. ≠ marks a documented deviation: the paper disagrees with its own arithmetic, and the computed figure matches the arithmetic.")

    @Argument(help: "Networks to verify (default: the whole zoo).")
    var names: [String] = []

    @Flag(help: "Print one JSON object.") var json = false

    @Flag(help: "Print only failures and the totals.") var quiet = false

    func run() throws {
        let results: [CheckResult] = try reporting {
            let networks = names.isEmpty ? try Catalogue.allNetworks() : try names.map { try Catalogue.network($0) }
            return try networks.flatMap { try $0.verify() }
        }
        let failed = results.filter { !$0.passed }.count
        let deviations = results.filter { $0.status == .deviation }.count
        if json {
            print(JSON.object([
                ("passed", .int(results.count - failed)), ("failed", .int(failed)), ("deviations", .int(deviations)),
                ("checks", .array(results.map(\.json))),
            ]).rendered(pretty: true))
        } else {
            for r in results where !quiet || !r.passed { print(r.line) }
            let networks = Set(results.map(\.network)).count
            print("\(results.count - failed) passed, \(failed) failed (\(deviations) documented deviation\(deviations == 1 ? "" : "s")) in \(networks) network\(networks == 1 ? "" : "s")")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
