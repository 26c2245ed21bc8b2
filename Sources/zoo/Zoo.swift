import ArgumentParser
import Foundation
import ZooCore

@main
struct ZooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "A CNN model zoo and architecture-reproduction suite.",
        discussion: "Every network is a definition in Zoo/*.yaml; a path to your own .yaml works wherever a NAME does.",
        subcommands: [ListCommand.self, SummaryCommand.self, VerifyCommand.self, WeightsCommand.self, RunCommand.self, BenchCommand.self, ExtractCommand.self, FitCommand.self, PredictCommand.self, CodesCommand.self, TrainCommand.self, DocsCommand.self]
    )
}

/// Runs a library call and turns a `ZooError` into a clean message and exit status 1.
func reporting<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ZooError {
        printError("zoo: \(error)")
        throw ExitCode(1)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
