import ArgumentParser
import Foundation
import ZooCore

struct DocsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Write one Markdown page per definition file (summary tables and paper checks) into a folder.")

    @Argument(help: "The folder to write (docs/zoo in the repository).")
    var directory: String = "docs/zoo"

    func run() throws {
        try reporting {
            let folder = URL(fileURLWithPath: directory)
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw ZooError("cannot create \(directory): \(error.localizedDescription)")
            }
            for file in try Catalogue.files() {
                let page = try file.documentationPage()
                let target = folder.appendingPathComponent(file.family + ".md")
                do { try Data(page.utf8).write(to: target, options: .atomic) } catch {
                    throw ZooError("cannot write \(target.path): \(error.localizedDescription)")
                }
                print("wrote \(target.path)")
            }
        }
    }
}
