import Foundation
import Testing
@testable import ZooCore

struct DatasetTests {
    func temporaryCSV(_ text: String) throws -> (dir: String, path: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/digits.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    @Test func readsRowsAndSplitsByClass() throws {
        // Ten 8×8 "digits": pixel value = row number, label = row % 2.
        var text = ""
        for r in 0..<10 { text += (Array(repeating: String(r), count: 64) + [String(r % 2)]).joined(separator: ",") + "\n" }
        let (dir, _) = try temporaryCSV(text)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try Dataset.load(named: "digits", cache: dir)
        #expect(d.images.shape == [10, 1, 8, 8])
        #expect(d.images[3, 0, 7, 7] == 3)
        let (train, test) = d.fixedSplit(testFraction: 0.2)
        #expect(test.labels == [0, 1])                 // the last of each class in file order: rows 8 and 9
        #expect(test.images[0, 0, 0, 0] == 8 && test.images[1, 0, 0, 0] == 9)
        #expect(train.count == 8)
    }

    @Test func badFilesAreClearErrors() throws {
        let (dir, path) = try temporaryCSV("1,2,3\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect { try Dataset.load(named: "digits", cache: dir) } throws: { "\($0)".contains("\(path):1: expected 64 pixels") }
        #expect { try Dataset.load(named: "mnist5k", cache: dir) } throws: { "\($0)".contains("tools/fetch-data.sh") }
        #expect { try Dataset.load(named: "cifar", cache: dir) } throws: { "\($0)".contains("unknown data set") }
    }

    @Test func realMNISTWhenFetched() throws {
        let cache = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".cache/data").path
        guard FileManager.default.fileExists(atPath: cache + "/mnist_5k.csv") else { return }   // CI does not fetch data
        let d = try Dataset.load(named: "mnist5k", cache: cache)
        #expect(d.count == 5000)
        let (train, test) = d.fixedSplit()
        #expect(train.count == 4000 && test.count == 1000)
        for c in 0..<10 { #expect(test.labels.filter { $0 == c }.count == 100) }
    }
}
