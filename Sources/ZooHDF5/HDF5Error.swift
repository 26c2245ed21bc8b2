import CHDF5
import Foundation

/// A failure of the HDF5 library or of a file's contents, naming the file, the object path, what
/// was attempted and HDF5's own message.
public struct HDF5Error: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var object: String?
    public var message: String
    /// The innermost messages of HDF5's error stack, when HDF5 failed.
    public var library: String?

    public init(file: String, object: String? = nil, _ message: String, library: String? = nil) {
        self.file = file; self.object = object; self.message = message; self.library = library
    }

    public var description: String {
        var s = file
        if let object { s += ":" + object }
        s += ": " + message
        if let library, !library.isEmpty { s += " (HDF5: \(library))" }
        return s
    }
}

/// All calls into the (not thread-safe) serial HDF5 library go through this lock.
enum HDF5Library {
    private static let lock = NSRecursiveLock()
    private static let initialised: Bool = {
        H5open()
        zoo_H5_silence_errors()
        return true
    }()

    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = initialised
        return try body()
    }

    /// The descriptions on HDF5's current error stack, innermost first, then clears it.
    static func errorStack() -> String {
        final class Box { var messages: [String] = [] }
        let box = Box()
        let pointer = Unmanaged.passRetained(box).toOpaque()
        H5Ewalk2(zoo_H5E_DEFAULT(), H5E_WALK_UPWARD, { _, description, data in
            guard let description, let data else { return 0 }
            let box = Unmanaged<Box>.fromOpaque(data).takeUnretainedValue()
            if let text = description.pointee.desc { box.messages.append(String(cString: text)) }
            return 0
        }, pointer)
        Unmanaged<Box>.fromOpaque(pointer).release()
        H5Eclear2(zoo_H5E_DEFAULT())
        var unique: [String] = []
        for m in box.messages where !unique.contains(m) { unique.append(m) }
        return unique.prefix(3).joined(separator: "; ")
    }
}
