import CHDF5
import Foundation

/// An open HDF5 file. Handles are closed when the last reference goes away (or by `close()`);
/// every call into the library is serialised (Debian's HDF5 is the serial, non-thread-safe build),
/// which is what makes these types `Sendable`.
public final class HDF5File: @unchecked Sendable {
    public let path: String
    let id: hid_t
    private var closed = false

    /// Opens an existing file for reading (or, with `writable`, for appending).
    public init(reading path: String, writable: Bool = false) throws {
        self.path = path
        id = try HDF5Library.locked {
            guard FileManager.default.fileExists(atPath: path) else {
                throw HDF5Error(file: path, "no such file")
            }
            let isHDF5 = H5Fis_hdf5(path)
            if isHDF5 == 0 {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
                throw HDF5Error(file: path, size == 0 ? "the file is empty, not an HDF5 file" : "not an HDF5 file (no HDF5 signature)")
            }
            if isHDF5 < 0 {
                throw HDF5Error(file: path, "cannot read the file", library: HDF5Library.errorStack())
            }
            let id = H5Fopen(path, writable ? zoo_H5F_ACC_RDWR() : zoo_H5F_ACC_RDONLY(), zoo_H5P_DEFAULT())
            guard id >= 0 else {
                let stack = HDF5Library.errorStack()
                let truncated = stack.contains("truncated") || stack.contains("eof")
                throw HDF5Error(file: path, truncated ? "the file is truncated (shorter than its HDF5 header says)" : "cannot open the file",
                                library: stack)
            }
            return id
        }
    }

    /// Creates a file; an existing one is an error unless `overwrite`. Groups created in it track
    /// creation order, so `members()` lists them as they were written.
    public init(creating path: String, overwrite: Bool = false) throws {
        self.path = path
        id = try HDF5Library.locked {
            if !overwrite && FileManager.default.fileExists(atPath: path) {
                throw HDF5Error(file: path, "the file exists (refusing to overwrite it)")
            }
            let fcpl = H5Pcreate(zoo_H5P_FILE_CREATE())
            defer { H5Pclose(fcpl) }
            H5Pset_link_creation_order(fcpl, zoo_H5P_CRT_ORDER_TRACKED() | zoo_H5P_CRT_ORDER_INDEXED())
            let id = H5Fcreate(path, overwrite ? zoo_H5F_ACC_TRUNC() : zoo_H5F_ACC_EXCL(), fcpl, zoo_H5P_DEFAULT())
            guard id >= 0 else { throw HDF5Error(file: path, "cannot create the file", library: HDF5Library.errorStack()) }
            return id
        }
    }

    deinit { close() }

    /// Closes the file (idempotent). Objects still open keep the file open until they go away.
    public func close() {
        HDF5Library.locked {
            if !closed { H5Fclose(id); closed = true }
        }
    }

    /// Writes buffered data to disk.
    public func flush() throws {
        try HDF5Library.locked {
            guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else {
                throw HDF5Error(file: path, "cannot flush", library: HDF5Library.errorStack())
            }
        }
    }

    /// The root group `/`.
    public var root: HDF5Group {
        get throws { try HDF5Group(file: self, parent: id, name: "/", path: "/") }
    }

    /// The group at an absolute path (`/model_weights/block1_conv1`).
    public func group(_ path: String) throws -> HDF5Group { try root.group(path) }
    /// The dataset at an absolute path.
    public func dataset(_ path: String) throws -> HDF5Dataset { try root.dataset(path) }
}
