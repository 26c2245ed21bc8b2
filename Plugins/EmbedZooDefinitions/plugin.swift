import Foundation
import PackagePlugin

/// Embeds every `Zoo/*.yaml` (and the class lists `Weights/*.txt`) of the package into the target it
/// is applied to (ZooCore).
/// Adding a definition file needs no Swift change: the tool reads the whole folder, and the
/// folder is an input, so the next build picks a new file up.
@main
struct EmbedZooDefinitions: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let zooDirectory = context.package.directoryURL.appending(path: "Zoo")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedDefinitions.swift")
        // SwiftPM evaluates this plugin only when the package's structure changes. The folder is an
        // input, so a new file re-runs the tool (which reads the whole folder); the files known at
        // evaluation time are inputs too, so editing them re-runs it. A file added since then is
        // re-read when the folder changes again (or after `touch Package.swift`).
        let weightsDirectory = context.package.directoryURL.appending(path: "Weights")
        let files = ((try? FileManager.default.contentsOfDirectory(at: zooDirectory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "yaml" }
            + ((try? FileManager.default.contentsOfDirectory(at: weightsDirectory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "txt" }
        return [
            .buildCommand(
                displayName: "Embedding the zoo definition files",
                executable: try context.tool(named: "ZooEmbedTool").url,
                arguments: [output.path, zooDirectory.path, weightsDirectory.path],
                inputFiles: [zooDirectory, weightsDirectory] + files,
                outputFiles: [output]
            )
        ]
    }
}
