import Foundation
import Testing
@testable import ZooCore

/// The zoo itself: every definition builds, every published figure checks out.
struct ZooTests {
    @Test func everyNamedNetworkIsThere() throws {
        let names = Set(try Catalogue.files().flatMap(\.names))
        for name in ["lenet5", "lenet5-common", "alexnet", "alexnet-ungrouped", "alexnet-torchvision", "zfnet", "zfnet-b",
                     "vgg-a", "vgg-a-lrn", "vgg-b", "vgg-c", "vgg-d", "vgg-e", "vgg11", "vgg11-lrn", "vgg13", "vgg16-c", "vgg16", "vgg19",
                     "googlenet", "googlenet-aux", "googlenet-torchvision",
                     "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet50-v1.5", "resnet101-v1.5", "resnet152-v1.5",
                     "resnet18-a", "resnet34-a", "resnet50-keras"] {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(try Catalogue.network("vgg16").name == "vgg-d")
    }

    @Test(arguments: try! Catalogue.names())
    func everyCheckPasses(name: String) throws {
        let network = try Catalogue.network(name)
        let results = try network.verify()
        #expect(!results.isEmpty, "\(name) has no checks")
        for r in results where !r.passed {
            Issue.record("\(r.line)")
        }
    }

    @Test func headlineFigures() throws {
        func params(_ n: String) throws -> Int { try Summary(Catalogue.network(n)).parameters }
        func trainable(_ n: String) throws -> Int { try Summary(Catalogue.network(n)).trainable }
        #expect(try trainable("lenet5") == 60_000)
        #expect(try Summary(Catalogue.network("lenet5")).connections == 340_908)
        #expect(try params("lenet5-common") == 61_706)
        #expect(try params("alexnet") == 60_965_224)
        #expect(try params("vgg16") == 138_357_544)
        #expect(try params("googlenet") == 6_998_552)
        #expect(try trainable("googlenet-torchvision") == 6_624_904)
        #expect(try trainable("resnet50") == 25_557_032)
        #expect(try params("resnet50-keras") == 25_636_712)
    }

    @Test func deviationsAreShownNotHidden() throws {
        let results = try Catalogue.network("googlenet").verify()
        let conv1 = results.first { $0.check.layer == "conv1" && $0.check.metric == .weights }!
        #expect(conv1.status == .deviation)
        #expect(conv1.line.contains("paper 2.7K") && conv1.line.contains("9,408") && conv1.line.contains("documented deviation"))
    }

    @Test func aFailingCheckFails() throws {
        var network = try Catalogue.network("vgg16")
        network.info.checks = [Check(metric: .params, printed: "100M", expected: .number(100e6, tolerance: 0.5e6), source: "test")]
        let r = try network.verify()[0]
        #expect(r.status == .fail)
        #expect(r.line.hasPrefix("✗"))
    }

    @Test func summaryJSONHasTheDocumentedShape() throws {
        let s = try Summary(Catalogue.network("googlenet"))
        guard case .object(let pairs) = s.json() else { Issue.record("not an object"); return }
        #expect(pairs.map(\.0).prefix(2) == ["name", "input"])
        let text = s.json().rendered()
        #expect(text.contains("\"name\":\"inception_3a.b2_3x3\""))
        #expect(text.contains("\"totals\":{\"params\":6998552,\"trainable\":6998552,\"non_trainable\":0,\"macs\":1582671872"))
    }

    @Test func summaryFoldsBlocksByDepth() throws {
        let s = try Summary(Catalogue.network("googlenet"))
        let top = s.rows(depth: 0)
        let row = top.first { $0.name == "inception_3a" }!
        #expect(row.type == "inception")
        #expect(row.output == Shape([256, 28, 28]))
        #expect(row.parameters == 163_328 + (64 + 96 + 128 + 16 + 32 + 32))   // weights + one bias per filter
        #expect(s.rows().count == s.layers.count)
    }

    @Test func summarisingVGGAllocatesNoWeights() throws {
        // 138M parameters would be 553 MB; the summary holds only the layer descriptions.
        let s = try Summary(Catalogue.network("vgg16"), batch: 64)
        #expect(s.weightBytes == 138_357_544 * 4)
        #expect(s.activationBytes > 0)
    }
}

/// docs/zoo/ is generated from the definitions; this keeps the committed pages current.
struct GeneratedDocsTests {
    @Test(arguments: try! Catalogue.files().map(\.family))
    func pageIsCurrent(family: String) throws {
        let file = try Catalogue.files().first { $0.family == family }!
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = repository.appendingPathComponent("docs/zoo/\(family).md")
        let committed = try? String(contentsOf: path, encoding: .utf8)
        #expect(committed == (try file.documentationPage()), "docs/zoo/\(family).md is out of date: run `make docs`")
    }
}
