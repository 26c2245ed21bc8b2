import Foundation
import Testing
import ZooCore
@testable import ZooEngine

/// The classic examples, computed by hand.
struct WorkedExampleTests {
    func run(_ network: Network, _ parameters: [String: [String: Tensor]], _ input: Tensor) throws -> Tensor {
        let engine = try Engine(model: try Model(network: network, parameters: parameters), threads: 1)
        return try engine.run(input)[network.output.name]!
    }

    func filter(_ image: [[Float]], _ kernel: [[Float]]) throws -> [[Float]] {
        var b = NetworkBuilder("t", input: [1, image.count, image[0].count])
        b.conv("c", filters: 1, kernel: kernel.count, bias: false)
        let out = try run(b.build(), ["c": ["kernel": Tensor(shape: [1, 1, kernel.count, kernel.count], data: kernel.flatMap { $0 })]],
                          Tensor(shape: [1, 1, image.count, image[0].count], data: image.flatMap { $0 }))
        let w = out.shape[3]
        return (0..<out.shape[2]).map { r in Array(out.data[(r * w)..<((r + 1) * w)]) }
    }

    @Test func verticalAndHorizontalLineFilters() throws {
        let image: [[Float]] = [[0, 1, 0, 1], [0, 1, 0, 1], [1, 1, 1, 1], [0, -2, 0, -2]]
        let vertical: [[Float]] = [[-0.5, 1, -0.5], [-0.5, 1, -0.5], [-0.5, 1, -0.5]]
        let horizontal: [[Float]] = [[-0.5, -0.5, -0.5], [1, 1, 1], [-0.5, -0.5, -0.5]]
        #expect(try filter(image, vertical) == [[2, -2], [-1, 1]])
        #expect(try filter(image, horizontal) == [[-1, -0.5], [3.5, 4]])
    }

    @Test func diagonalFilterOnAnX() throws {
        // 9×9 of −1 with an X of +1 on both diagonals of rows/columns 1–7.
        var image = [[Float]](repeating: [Float](repeating: -1, count: 9), count: 9)
        for i in 1...7 { image[i][i] = 1; image[i][8 - i] = 1 }
        let kernel: [[Float]] = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
        let map = try filter(image, kernel).map { $0.map { $0 / 9 } }
        #expect(map.count == 7 && map[0].count == 7)
        #expect(abs(map[0][0] - 7 / 9) < 1e-6 && abs(map[6][6] - 7 / 9) < 1e-6)
        // 1 along the diagonal, but where the two strokes cross: there the window holds the X's
        // centre, [[1,−1,1],[−1,1,−1],[1,−1,1]], which matches the filter at 7 places and misses
        // at 2: (7 − 2)/9 = 5/9.
        for i in [1, 2, 4, 5] { #expect(abs(map[i][i] - 1) < 1e-6) }
        #expect(abs(map[3][3] - 5 / 9) < 1e-6)
    }

    @Test func maxPoolOfAFourByFour() throws {
        var b = NetworkBuilder("t", input: [1, 4, 4])
        b.maxPool("p", kernel: 2)
        let out = try run(b.build(), [:], Tensor(shape: [1, 1, 4, 4], data: [1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]))
        #expect(out.data == [6, 8, 3, 4])
    }
}

struct EngineBehaviourTests {
    @Test func requestedOutputsAreCopiesUntouchedByInPlaceWork() throws {
        var b = NetworkBuilder("t", input: [2, 4, 4])
        b.conv("c", filters: 3, kernel: 3, padding: 1)
        b.relu("r")
        b.flatten("f")
        b.dense("fc", units: 2)
        let model = try Model.randomlyInitialised(b.build(), seed: 3)
        let engine = try Engine(model: model, threads: 1)
        let x = Tensor(shape: [1, 2, 4, 4], data: (0..<32).map { Float($0 % 7) - 3 })
        let both = try engine.run(x, outputs: ["c", "r"])
        #expect(both["c"]!.data.contains { $0 < 0 }, "the raw convolution keeps its negative values")
        #expect(both["r"]!.data.allSatisfy { $0 >= 0 })
        #expect(both["r"]!.data == both["c"]!.data.map { max($0, 0) })
        // Asking for the ReLU alone (fused into the convolution) gives the same numbers.
        #expect(try engine.run(x, outputs: ["r"])["r"] == both["r"])
    }

    @Test func sameSeedSameWeights() throws {
        let network = try Catalogue.network("lenet5")
        let a = try Model.randomlyInitialised(network, seed: 42), b = try Model.randomlyInitialised(network, seed: 42)
        let c = try Model.randomlyInitialised(network, seed: 43)
        #expect(a.parameters["C3"]!["kernel"] == b.parameters["C3"]!["kernel"])
        #expect(a.parameters["C3"]!["kernel"] != c.parameters["C3"]!["kernel"])
        #expect(a.parameters["OUTPUT"]!["prototypes"]!.data.allSatisfy { $0 == 1 || $0 == -1 })
    }

    @Test func clearErrors() throws {
        let engine = try Engine(model: try Model.randomlyInitialised(Catalogue.network("lenet5-common"), seed: 1))
        #expect { try engine.run(Tensor(zeros: [1, 1, 28, 28])) } throws: { "\($0)".contains("takes [N, 1, 32, 32]") }
        #expect { try engine.run(Tensor(zeros: [1, 1, 32, 32]), outputs: ["F7"]) } throws: { "\($0)".contains("did you mean `F6`") }
        let outputs = try engine.run(Tensor(zeros: [3, 1, 32, 32]))
        #expect(outputs["prob"]!.shape == [3, 10])
    }

    @Test func npyRoundTrip() throws {
        let t = Tensor(shape: [2, 3], data: [1, -2, 3.5, 0, 1e-7, 6])
        #expect(try NPY.decode(NPY.encode(t)) == t)
        #expect { try NPY.decode(Data("nope".utf8), path: "x.npy") } throws: { "\($0)".contains("x.npy: not a .npy file") }
    }

    @Test func keepsOnlyLiveBuffers() throws {
        // VGG-sized layers would not fit here; a deep chain shows the plan frees dead outputs:
        // the result must not depend on the order buffers are released.
        var b = NetworkBuilder("t", input: [3, 16, 16])
        var last = "in"
        for i in 1...6 {
            last = b.conv("c\(i)", filters: 4, kernel: 3, padding: 1)
            b.relu("r\(i)")
        }
        _ = last
        let model = try Model.randomlyInitialised(b.build(), seed: 9)
        let x = Tensor(shape: [2, 3, 16, 16], data: (0..<1536).map { sin(Float($0)) })
        let one = try Engine(model: model, threads: 1).run(x, outputs: ["r6"])
        let all = try Engine(model: model, threads: 2).run(x, outputs: (1...6).map { "r\($0)" })
        #expect(one["r6"] == all["r6"])
    }
}
