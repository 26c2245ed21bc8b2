import Foundation
import ZooCore

/// Writes a file the safe way: into a temporary file in the same folder, renamed into place only
/// when complete. An existing file is replaced only with `overwrite`; on failure nothing is left.
public enum AtomicFile {
    public static func write(to path: String, overwrite: Bool, _ body: (_ temporaryPath: String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        if fm.fileExists(atPath: path) && !overwrite {
            throw ZooError("\(path) exists; refusing to overwrite it", hint: "pass --force (or overwrite: true) to replace it")
        }
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ZooError("cannot write \(path): the folder \(folder.path) does not exist")
        }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).partial").path
        do {
            try body(temporary)
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(atPath: temporary)
            throw ZooError("cannot move the finished file into place at \(path): \(reason)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
