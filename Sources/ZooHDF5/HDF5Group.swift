import CHDF5

/// A group: a folder of groups and datasets.
public final class HDF5Group: HDF5Object, @unchecked Sendable {
    public enum MemberKind: Sendable, Equatable { case group, dataset, other }

    init(file: HDF5File, parent: hid_t, name: String, path: String) throws {
        let id = try HDF5Library.locked {
            let id = H5Gopen2(parent, name, zoo_H5P_DEFAULT())
            guard id >= 0 else { throw HDF5Error(file: file.path, object: path, "no such group", library: HDF5Library.errorStack()) }
            return id
        }
        super.init(file: file, id: id, path: path)
    }

    override init(file: HDF5File, id: hid_t, path: String) { super.init(file: file, id: id, path: path) }

    deinit { _ = HDF5Library.locked { H5Gclose(id) } }

    /// Whether `name` (a relative path such as `a/b/kernel:0`) exists below this group.
    public func contains(_ name: String) -> Bool {
        HDF5Library.locked {
            var prefix = ""
            for part in name.split(separator: "/") {
                prefix += (prefix.isEmpty ? "" : "/") + part
                guard H5Lexists(id, prefix, zoo_H5P_DEFAULT()) > 0 else { H5Eclear2(zoo_H5E_DEFAULT()); return false }
            }
            return true
        }
    }

    /// What `name` is: a group, a dataset, or something else; nil when absent.
    public func kind(of name: String) -> MemberKind? {
        guard contains(name) else { return nil }
        return HDF5Library.locked {
            let object = H5Oopen(id, name, zoo_H5P_DEFAULT())
            guard object >= 0 else { H5Eclear2(zoo_H5E_DEFAULT()); return .other }
            defer { H5Oclose(object) }
            switch H5Iget_type(object) {
            case H5I_GROUP: return .group
            case H5I_DATASET: return .dataset
            default: return .other
            }
        }
    }

    /// The names of the members, in creation order when the file tracks it, else in name order.
    public func members() throws -> [String] {
        try HDF5Library.locked {
            final class Box { var names: [String] = [] }
            func iterate(_ index: H5_index_t) -> (herr_t, [String]) {
                let box = Box()
                let context = Unmanaged.passRetained(box).toOpaque()
                defer { Unmanaged<Box>.fromOpaque(context).release() }
                var position: hsize_t = 0
                let status = H5Literate(id, index, H5_ITER_INC, &position, { _, name, _, data in
                    guard let name, let data else { return 0 }
                    Unmanaged<Box>.fromOpaque(data).takeUnretainedValue().names.append(String(cString: name))
                    return 0
                }, context)
                return (status, box.names)
            }
            let (byCreation, names) = iterate(H5_INDEX_CRT_ORDER)
            if byCreation >= 0 { return names }
            H5Eclear2(zoo_H5E_DEFAULT())
            let (byName, sorted) = iterate(H5_INDEX_NAME)
            guard byName >= 0 else { throw error("cannot list the members") }
            return sorted
        }
    }

    /// The group at a relative (or absolute) path.
    public func group(_ name: String) throws -> HDF5Group {
        if name == "/" || name.isEmpty { return try file.root }
        guard kind(of: name) == .group else {
            throw HDF5Error(file: file.path, object: childPath(name), contains(name) ? "is not a group" : "no such group")
        }
        return try HDF5Group(file: file, parent: id, name: name, path: childPath(name))
    }

    /// The dataset at a relative (or absolute) path.
    public func dataset(_ name: String) throws -> HDF5Dataset {
        guard kind(of: name) == .dataset else {
            throw HDF5Error(file: file.path, object: childPath(name), contains(name) ? "is not a dataset" : "no such dataset")
        }
        return try HDF5Dataset(file: file, parent: id, name: name, path: childPath(name))
    }

    /// Creates a child group (its members will be listed in creation order).
    @discardableResult
    public func createGroup(_ name: String) throws -> HDF5Group {
        try HDF5Library.locked {
            let gcpl = H5Pcreate(zoo_H5P_GROUP_CREATE())
            defer { H5Pclose(gcpl) }
            H5Pset_link_creation_order(gcpl, zoo_H5P_CRT_ORDER_TRACKED() | zoo_H5P_CRT_ORDER_INDEXED())
            let gid = H5Gcreate2(id, name, zoo_H5P_DEFAULT(), gcpl, zoo_H5P_DEFAULT())
            guard gid >= 0 else { throw HDF5Error(file: file.path, object: childPath(name), "cannot create the group", library: HDF5Library.errorStack()) }
            return HDF5Group(file: file, id: gid, path: childPath(name))
        }
    }

    /// Creates a float32 dataset of `shape` holding `data` (row-major). With `chunks`, the dataset is
    /// chunked and its first dimension may grow (`append`).
    @discardableResult
    public func createDataset(_ name: String, shape: [Int], data: [Float], chunks: [Int]? = nil) throws -> HDF5Dataset {
        guard data.count == shape.reduce(1, *) else {
            throw HDF5Error(file: file.path, object: childPath(name), "\(data.count) values do not fill the shape \(shape)")
        }
        return try data.withUnsafeBufferPointer { buffer in
            try createDataset(name, shape: shape, type: zoo_H5T_NATIVE_FLOAT(), chunks: chunks, bytes: UnsafeRawPointer(buffer.baseAddress))
        }
    }

    /// Creates a dataset of 64-bit integers.
    @discardableResult
    public func createDataset(_ name: String, shape: [Int], ints: [Int], chunks: [Int]? = nil) throws -> HDF5Dataset {
        let values = ints.map(Int64.init)
        return try values.withUnsafeBufferPointer { buffer in
            try createDataset(name, shape: shape, type: zoo_H5T_NATIVE_INT64(), chunks: chunks, bytes: UnsafeRawPointer(buffer.baseAddress))
        }
    }

    /// Creates a one-dimensional dataset of variable-length UTF-8 strings.
    @discardableResult
    public func createDataset(_ name: String, strings: [String], chunks: Int? = nil) throws -> HDF5Dataset {
        try HDF5Library.locked {
            try HDF5Values.withVariableStrings(strings) { type, bytes in
                try createDataset(name, shape: [strings.count], type: type, chunks: chunks.map { [$0] }, bytes: bytes)
            }
        }
    }

    func createDataset(_ name: String, shape: [Int], type: hid_t, chunks: [Int]?, bytes: UnsafeRawPointer?) throws -> HDF5Dataset {
        try HDF5Library.locked {
            var dims = shape.map { hsize_t($0) }
            var maxDims = dims
            let dcpl = H5Pcreate(zoo_H5P_DATASET_CREATE())
            defer { H5Pclose(dcpl) }
            if var chunkDims = chunks?.map({ hsize_t(max($0, 1)) }) {
                guard chunkDims.count == shape.count else {
                    throw HDF5Error(file: file.path, object: childPath(name), "chunks \(chunks!) do not match the shape \(shape)")
                }
                maxDims[0] = zoo_H5S_UNLIMITED()
                H5Pset_chunk(dcpl, Int32(chunkDims.count), &chunkDims)
            }
            let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &dims, &maxDims)
            defer { H5Sclose(space) }
            let did = H5Dcreate2(id, name, type, space, zoo_H5P_DEFAULT(), dcpl, zoo_H5P_DEFAULT())
            guard did >= 0 else {
                throw HDF5Error(file: file.path, object: childPath(name), "cannot create the dataset", library: HDF5Library.errorStack())
            }
            let dataset = HDF5Dataset(file: file, id: did, path: childPath(name))
            if let bytes, shape.reduce(1, *) > 0 {
                guard H5Dwrite(did, type, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), bytes) >= 0 else {
                    throw dataset.error("cannot write the dataset")
                }
            }
            return dataset
        }
    }
}
