import ArgumentParser
import ZooCore

@main
struct ZooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "zoo", abstract: "A CNN model zoo and architecture-reproduction suite.")
}
