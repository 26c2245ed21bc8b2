import Foundation
import Testing
@testable import ZooCore

/// The definition format: a user's own file, templates and loops, and a clear error (file, line,
/// layer) for every kind of bad definition.
struct DefinitionTests {
    func network(_ yaml: String, name: String? = nil) throws -> Network {
        let file = try DefinitionFile(text: yaml, path: "my.yaml")
        return try file.network(named: name ?? file.entries[0].name)
    }

    /// Expects the definition to fail with a message containing every fragment.
    func expectError(_ yaml: String, _ fragments: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            let net = try network(yaml)
            _ = try net.infer()
            Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
        } catch {
            let text = "\(error)"
            for f in fragments where !text.contains(f) {
                Issue.record("error `\(text)` does not contain `\(f)`", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func aUsersOwnNetwork() throws {
        let net = try network("""
            name: tiny
            input: [1, 28, 28]
            layers:
              - {name: conv1, type: conv, filters: 8, kernel: 3, padding: 1}
              - {name: relu1, type: relu}
              - {name: pool1, type: maxpool, kernel: 2}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 10}
            """)
        let s = try Summary(net)
        #expect(s.parameters == (9 * 8 + 8) + (8 * 14 * 14 * 10 + 10))
        #expect(net.output.name == "fc")
    }

    @Test func templatesLoopsRepeatAndWhen() throws {
        let net = try network("""
            name: stacked
            input: [3, 16, 16]
            blocks:
              unit:
                args: [width, stride, extra]
                defaults: {extra: false}
                layers:
                  - {name: conv, type: conv, filters: $width, kernel: 3, stride: $stride, padding: 1, rounding: floor}
                  - {name: bn, type: batchnorm, when: $extra}
                  - {name: relu, type: relu}
            layers:
              - for: [n, w]
                in: [[1, 4], [2, 8]]
                layers:
                  - repeat: 2
                    name: "s${n}_${i}"
                    block: unit
                    args: {width: $w, stride: 1}
                    first: {stride: 2, extra: true}
              - {name: side, type: conv, filters: "${2*4}", kernel: 1, input: s2_1}
              - {name: join, type: add, inputs: [s2_2, side]}
            """)
        let names = net.layers.map(\.name)
        #expect(names.contains("s1_1.bn") && !names.contains("s1_2.bn"))
        #expect(net.info.blocks["s2_2"] == "unit")
        // `input: s2_1` names a block: it means the block's last layer.
        #expect(net.layer(named: "side")?.inputs == ["s2_1.relu"])
        let infos = try net.infer()
        #expect(infos.last!.output == Shape([8, 4, 4]))
    }

    @Test func unknownLayerType() {
        expectError("""
            name: t
            input: [1, 8, 8]
            layers:
              - {name: c1, type: convolution, filters: 2, kernel: 3}
            """, "my.yaml:4", "unknown layer type `convolution`")
    }

    @Test func missingField() {
        expectError("""
            name: t
            input: [1, 8, 8]
            layers:
              - {name: c1, type: conv, kernel: 3}
            """, "my.yaml:4", "layer `c1`", "conv needs `filters`")
    }

    @Test func unknownFieldWithSuggestion() {
        expectError("""
            name: t
            input: [1, 8, 8]
            layers:
              - {name: c1, type: conv, filters: 2, kernel: 3, strides: 2}
            """, "my.yaml:4", "unknown field `strides`", "did you mean `stride`?")
    }

    @Test func zeroAndNegativeSizes() {
        expectError("""
            name: t
            input: [1, 8, 8]
            layers:
              - {name: c1, type: conv, filters: 0, kernel: 3}
            """, "my.yaml:4", "`filters` must be positive, got 0")
        expectError("""
            name: t
            input: [1, 8, 8]
            layers:
              - {name: c1, type: conv, filters: 2, kernel: 3, padding: -1}
            """, "my.yaml:4", "`padding` must be at least 0, got -1")
    }

    @Test func aLayerThatDoesNotFit() {
        expectError("""
            name: t
            input: [3, 7, 7]
            layers:
              - {name: conv3, type: conv, filters: 2, kernel: 3, stride: 3}
            """, "my.yaml:4", "layer `conv3`", "(7 − 3 + 2·0)/3 + 1 = 2.33", "rounding: floor")
    }

    @Test func aJoinOfMismatchedShapes() {
        expectError("""
            name: t
            input: [3, 8, 8]
            layers:
              - {name: a, type: conv, filters: 4, kernel: 1}
              - {name: b, type: conv, filters: 4, kernel: 3, input: in}
              - {name: cat, type: concat, inputs: [a, b]}
            """, "my.yaml:6", "layer `cat`", "one height and width", "`a` 4×8×8", "`b` 4×6×6")
    }

    @Test func aCycle() {
        expectError("""
            name: t
            input: [3, 8, 8]
            layers:
              - {name: a, type: conv, filters: 4, kernel: 1, input: c}
              - {name: b, type: relu}
              - {name: c, type: add, inputs: [a, b]}
            """, "my.yaml:", "cycle")
    }

    @Test func aMissingReference() {
        expectError("""
            name: t
            input: [3, 8, 8]
            layers:
              - {name: conv1, type: conv, filters: 4, kernel: 1}
              - {name: b, type: relu, input: conv2}
            """, "my.yaml:5", "input `conv2` is not a layer", "did you mean `conv1`?")
    }

    @Test func badYAMLAndBadExpressions() {
        expectError("name: t\ninput: [3, 8, 8]\nlayers:\n  - {name: a, type: conv, filters: 4, kernel: 1\n", "my.yaml:", "not valid YAML")
        expectError("""
            name: t
            input: [3, 8, 8]
            layers:
              - {name: a, type: conv, filters: "${width*2}", kernel: 1}
            """, "my.yaml:4", "unknown name `width`")
    }

    @Test func templateArgumentErrors() {
        expectError("""
            name: t
            input: [3, 8, 8]
            blocks:
              b: {args: [w], layers: [{name: c, type: conv, filters: $w, kernel: 1}]}
            layers:
              - {name: x, block: b, args: {width: 3}}
            """, "my.yaml:6", "`width` is not an argument of `b`")
        expectError("""
            name: t
            input: [3, 8, 8]
            layers:
              - {name: x, block: nope}
            """, "my.yaml:4", "unknown block `nope`")
    }

    @Test func aWiderToleranceNeedsAReason() {
        expectError("""
            name: t
            input: [3, 8, 8]
            layers: [{name: a, type: conv, filters: 4, kernel: 1}]
            checks:
              - {metric: params, value: 16, tolerance: 10%, source: me}
            """, "my.yaml:5", "needs a `why`")
    }

    @Test func aUserFileFromDisk() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-def-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("net.yaml").path
        try "name: mine\ninput: [1, 4, 4]\nlayers: [{name: fc, type: flatten}]\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Catalogue.network(path).name == "mine")
        #expect { try Catalogue.network(dir.appendingPathComponent("missing.yaml").path) } throws: { "\($0)".contains("no definition file") }
    }
}

/// The Swift builder and the parser make the same network.
struct BuilderTests {
    @Test func builderMatchesTheDefinition() throws {
        var b = NetworkBuilder("tiny", input: [1, 28, 28])
        b.conv("conv1", filters: 8, kernel: 3, padding: 1)
        b.relu("relu1")
        let pool = b.maxPool("pool1", kernel: 2)
        let left = b.conv("left", filters: 4, kernel: 1, inputs: [pool])
        let right = b.conv("right", filters: 4, kernel: 3, padding: 1, inputs: [pool])
        b.concat("cat", [left, right])
        b.flatten("flatten")
        b.dense("fc", units: 10)
        let built = try Summary(b.build())
        let parsed = try Summary(DefinitionFile(text: """
            name: tiny
            input: [1, 28, 28]
            layers:
              - {name: conv1, type: conv, filters: 8, kernel: 3, padding: 1}
              - {name: relu1, type: relu}
              - {name: pool1, type: maxpool, kernel: 2}
              - {name: left, type: conv, filters: 4, kernel: 1}
              - {name: right, type: conv, filters: 4, kernel: 3, padding: 1, input: pool1}
              - {name: cat, type: concat, inputs: [left, right]}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 10}
            """, path: "tiny.yaml").network(named: "tiny"))
        #expect(built.json().rendered() == parsed.json().rendered())
        #expect(built.parameters == 80 + 36 + 292 + 8 * 14 * 14 * 10 + 10)
    }
}
