import Foundation
import Testing
@testable import ZooHDF5

/// Files written by h5py (tools/make_hdf5_fixtures.py) read back value by value; round trips; and
/// every kind of bad file a clear error.
struct HDF5Tests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hdf5")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    func temporaryPath(_ name: String = "test.h5") throws -> (dir: URL, path: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-h5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return (dir, dir.appendingPathComponent(name).path)
    }

    @Test func attributesAsH5pyAndKerasWriteThem() throws {
        let root = try HDF5File(reading: Self.fixture("kinds.h5")).root
        #expect(try root.attribute("int_scalar") == .int(42))
        #expect(try root.attribute("float_scalar") == .double(2.5))
        #expect(try root.attribute("int_array") == .ints([1, 2, 3]))
        #expect(try root.attribute("float_array") == .doubles([0.5, -1.25]))
        #expect(try root.attribute("vlen_string") == .string("hello, wörld"))
        #expect(try root.attribute("fixed_string")?.string == "fixed")
        #expect(try root.attribute("layer_names") == .strings(["block1_conv1", "fc1", "predictions"]))
        #expect(try root.attribute("vlen_array") == .strings(["a", "bb", "ccc"]))
        #expect(try root.attribute("weight_names_empty") == .doubles([]))
        #expect(try root.attribute("weight_names_empty")?.strings == [])
        #expect(try root.attribute("missing") == nil)
        #expect(try Set(root.attributeNames()).isSuperset(of: ["int_scalar", "layer_names"]))
    }

    @Test func datasetsOfEveryTypeAndRank() throws {
        let file = try HDF5File(reading: Self.fixture("kinds.h5"))
        let root = try file.root
        let scalar = try root.dataset("scalar")
        let scalarValues = try scalar.readFloats()
        #expect(scalar.shape == [] && scalarValues == [3.5])
        #expect(try root.dataset("vector_f64").elementType == .float(bits: 64))
        #expect(try root.dataset("vector_f64").readFloats() == [1, 2, 3])
        let m = try root.dataset("matrix_i32")
        #expect(m.shape == [2, 3] && m.elementType == .integer(bits: 32, signed: true))
        #expect(try m.readInts() == [0, 1, 2, 3, 4, 5])
        #expect(try m.readFloats() == [0, 1, 2, 3, 4, 5])
        #expect(try root.dataset("bytes_u8").readFloats() == [0, 128, 255])
        let k = try root.dataset("kernel_4d")
        #expect(k.shape == [2, 3, 4, 5])
        let values = try k.readFloats()
        #expect(values.count == 120 && values[119] == Float(119) / 10)
        #expect(try root.dataset("strings").readStrings() == ["x.png", "y/ü.jpg"])
        let nested = try file.dataset("/a/b/kernel:0")
        #expect(nested.path == "/a/b/kernel:0")
        #expect(try nested.readFloats() == [1, 2, 3, 4])
        #expect(try nested.attribute("note") == .string("nested"))
        #expect(root.kind(of: "a") == .group && root.kind(of: "a/b/kernel:0") == .dataset && root.kind(of: "nope") == nil)
    }

    @Test func readingIntoAFinalBuffer() throws {
        let d = try HDF5File(reading: Self.fixture("kinds.h5")).dataset("a/b/kernel:0")
        var buffer = [Float](repeating: 0, count: 4)
        try buffer.withUnsafeMutableBufferPointer { try d.read(into: $0) }
        #expect(buffer == [1, 2, 3, 4])
        var wrong = [Float](repeating: 0, count: 3)
        #expect { try wrong.withUnsafeMutableBufferPointer { try d.read(into: $0) } }
            throws: { "\($0)".contains("has 4 values") }
    }

    @Test func membersInStorageOrder() throws {
        #expect(try HDF5File(reading: Self.fixture("ordered.h5")).root.members() == ["z", "a", "m"])
        // Without creation order, name order.
        let names = try HDF5File(reading: Self.fixture("kinds.h5")).root.members()
        #expect(names == names.sorted())
    }

    @Test func roundTrip() throws {
        let (dir, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let file = try HDF5File(creating: path)
            let root = try file.root
            try root.setAttribute("format", .string("zoo"))
            try root.setAttribute("version", .int(1))
            try root.setAttribute("mean", .doubles([103.939, 116.779, 123.68]))
            try root.setAttribute("classes", .strings(["cat", "dog"]))
            try root.setAttribute("empty", .strings([]))
            let g = try root.createGroup("conv1")
            try g.createGroup("inner")
            try g.createDataset("kernel", shape: [2, 1, 2, 2], data: (0..<8).map(Float.init))
            let codes = try root.createDataset("codes", shape: [0, 3], data: [], chunks: [16, 3])
            try codes.append(rows: [1, 2, 3, 4, 5, 6])
            try codes.append(rows: [7, 8, 9])
            let paths = try root.createDataset("paths", strings: [], chunks: 16)
            try paths.append(strings: ["a.png", "b.jpg", "c.png"])
            let labels = try root.createDataset("labels", shape: [0], ints: [], chunks: [16])
            try labels.append(ints: [2, 0, 1])
        }
        let root = try HDF5File(reading: path).root
        #expect(try root.attribute("format") == .string("zoo"))
        #expect(try root.attribute("version") == .int(1))
        #expect(try root.attribute("mean") == .doubles([103.939, 116.779, 123.68]))
        #expect(try root.attribute("classes") == .strings(["cat", "dog"]))
        #expect(try root.attribute("empty")?.strings == [])
        #expect(try root.members() == ["conv1", "codes", "paths", "labels"])
        #expect(try root.group("conv1").members() == ["inner", "kernel"])
        #expect(try root.dataset("conv1/kernel").readFloats() == (0..<8).map(Float.init))
        #expect(try root.dataset("codes").shape == [3, 3])
        #expect(try root.dataset("codes").readFloats() == (1...9).map(Float.init))
        #expect(try root.dataset("paths").readStrings() == ["a.png", "b.jpg", "c.png"])
        #expect(try root.dataset("labels").readInts() == [2, 0, 1])
        #expect(try root.tree().valueCount == 8 + 9 + 3 + 3)
    }

    @Test func refusesToOverwrite() throws {
        let (dir, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try HDF5File(creating: path)
        #expect { try HDF5File(creating: path) } throws: { "\($0)".contains("refusing to overwrite") }
        _ = try HDF5File(creating: path, overwrite: true)
    }

    @Test func badFiles() throws {
        #expect { try HDF5File(reading: Self.fixture("not-hdf5.h5")) } throws: { "\($0)".contains("not-hdf5.h5: not an HDF5 file") }
        #expect { try HDF5File(reading: Self.fixture("truncated.h5")) } throws: { "\($0)".contains("truncated.h5") && "\($0)".contains("truncated") }
        #expect { try HDF5File(reading: Self.fixture("missing.h5")) } throws: { "\($0)".contains("no such file") }
        let (dir, path) = try temporaryPath("empty.h5")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        #expect { try HDF5File(reading: path) } throws: { "\($0)".contains("empty") }
        let root = try HDF5File(reading: Self.fixture("kinds.h5")).root
        #expect { try root.dataset("strings").readFloats() } throws: { "\($0)".contains(":/strings: holds string values, not numbers") }
        #expect { try root.dataset("a") } throws: { "\($0)".contains(":/a: is not a dataset") }
        #expect { try root.group("zzz") } throws: { "\($0)".contains(":/zzz: no such group") }
    }
}
