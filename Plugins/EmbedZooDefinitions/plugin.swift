import Foundation
import PackagePlugin

/// Embeds every `Zoo/*.yaml` of the package into the target it is applied to (ZooCore).
/// Adding a definition file needs no Swift change: the tool reads the whole folder, and the
/// folder is an input, so the next build picks a new file up.
@main
struct EmbedZooDefinitions: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let zooDirectory = context.package.directoryURL.appending(path: "Zoo")
        let files = try FileManager.default
            .contentsOfDirectory(at: zooDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedDefinitions.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) zoo definition files",
                executable: try context.tool(named: "ZooEmbedTool").url,
                arguments: [output.path, zooDirectory.path],
                inputFiles: files + [zooDirectory],
                outputFiles: [output]
            )
        ]
    }
}
