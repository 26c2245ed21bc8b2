import Testing
@testable import ZooCore

/// The formulas, checked on the classic worked examples (CS231n notes and slides) and on cases
/// worked by hand.
struct ArithmeticTests {
    func infer(_ input: [Int], _ kinds: [LayerKind]) throws -> [LayerInfo] {
        var layers: [Layer] = []
        for (i, kind) in kinds.enumerated() {
            layers.append(Layer(name: "l\(i + 1)", kind: kind, inputs: i == 0 ? [] : ["l\(i)"]))
        }
        return try Network(name: "t", input: Shape(input), layers: layers).infer()
    }

    @Test func cs231nTenFiveByFiveFilters() throws {
        // 32×32×3 input, ten 5×5 filters, stride 1, pad 2 → 32×32×10 and (5·5·3 + 1)·10 = 760 parameters.
        let info = try infer([3, 32, 32], [.convolution(Convolution(filters: 10, kernel: Size2(square: 5), padding: .symmetric(2)))])[0]
        #expect(info.output == Shape([10, 32, 32]))
        #expect(info.parameterCount == 760)
        #expect(info.macs == 5 * 5 * 3 * 10 * 32 * 32)
    }

    @Test func cs231nSevenBySevenStrides() throws {
        // 7×7 input, 3×3 filter: stride 1 → 5, stride 2 → 3, stride 3 → (7 − 3)/3 + 1 = 2.33 does not fit.
        for (stride, size) in [(1, 5), (2, 3)] {
            let info = try infer([1, 7, 7], [.convolution(Convolution(filters: 1, kernel: Size2(square: 3), stride: Size2(square: stride)))])[0]
            #expect(info.output == Shape([1, size, size]))
        }
        #expect {
            try infer([1, 7, 7], [.convolution(Convolution(filters: 1, kernel: Size2(square: 3), stride: Size2(square: 3)))])
        } throws: { error in
            let text = "\(error)"
            return text.contains("layer `l1`") && text.contains("(7 − 3 + 2·0)/3 + 1 = 2.33")
                && text.contains("does not fit a 7×7 input") && text.contains("rounding: floor")
        }
    }

    @Test func declaredRoundingIsAcceptedAndNoted() throws {
        let floor = try infer([1, 7, 7], [.convolution(Convolution(filters: 1, kernel: Size2(square: 3), stride: Size2(square: 3), rounding: .floor))])[0]
        #expect(floor.output == Shape([1, 2, 2]))
        #expect(floor.notes.contains { $0.contains("floor") && $0.contains("last 1 input row") })
        let ceil = try infer([1, 7, 7], [.convolution(Convolution(filters: 1, kernel: Size2(square: 3), stride: Size2(square: 3), rounding: .ceil))])[0]
        #expect(ceil.output == Shape([1, 3, 3]))
    }

    @Test func cs231nPaddingPreservesSize() throws {
        // 7×7, 3×3, stride 1, pad 1 → 7×7 (P = (F − 1)/2).
        let info = try infer([1, 7, 7], [.convolution(Convolution(filters: 1, kernel: Size2(square: 3), padding: .symmetric(1)))])[0]
        #expect(info.output == Shape([1, 7, 7]))
    }

    @Test func cs231nMaxPool() throws {
        // A 2×2/2 max pool of a 4×4 map → 2×2, no parameters.
        let info = try infer([1, 4, 4], [.pooling(Pooling(mode: .max, kernel: Size2(square: 2)))])[0]
        #expect(info.output == Shape([1, 2, 2]))
        #expect(info.parameterCount == 0)
    }

    @Test func ceilPoolingDropsAWindowThatStartsInThePadding() throws {
        // PyTorch's rule: 5 wide, 2×2/2, pad 1, ceil: ceil((5 + 2 − 2)/2) + 1 = 4, but the 4th window
        // would start at 6 ≥ 5 + 1, so 3.
        let info = try infer([1, 5, 5], [.pooling(Pooling(mode: .max, kernel: Size2(square: 2), padding: .symmetric(1), rounding: .ceil))])[0]
        #expect(info.output == Shape([1, 3, 3]))
        // GoogLeNet: 112 → 56 with a 3×3/2 ceil pool (55.5 up).
        let g = try infer([64, 112, 112], [.pooling(Pooling(mode: .max, kernel: Size2(square: 3), stride: Size2(square: 2), rounding: .ceil))])[0]
        #expect(g.output == Shape([64, 56, 56]))
    }

    @Test func groupsDilationAndSamePadding() throws {
        // AlexNet conv2: 256 filters of 5×5 over 48 of the 96 maps: 5·5·48·256 + 256 = 307,456.
        let grouped = try infer([96, 27, 27], [.convolution(Convolution(filters: 256, kernel: Size2(square: 5), padding: .symmetric(2), groups: 2))])[0]
        #expect(grouped.parameterCount == 307_456)
        // A 3×3 kernel with dilation 2 spans 5: 9 → 5 without padding.
        let dilated = try infer([1, 9, 9], [.convolution(Convolution(filters: 1, kernel: Size2(square: 3), dilation: Size2(square: 2)))])[0]
        #expect(dilated.output == Shape([1, 5, 5]))
        // "same" with stride 2 on 224: out 112, total padding (112 − 1)·2 + 7 − 224 = 5 → 2 before, 3 after.
        let same = try infer([3, 224, 224], [.convolution(Convolution(filters: 8, kernel: Size2(square: 7), stride: Size2(square: 2), padding: .same))])[0]
        #expect(same.output == Shape([8, 112, 112]))
        #expect(same.padding == ResolvedPadding(top: 2, bottom: 3, left: 2, right: 3))
        // Asymmetric explicit padding.
        let asym = try infer([1, 4, 4], [.convolution(Convolution(filters: 1, kernel: Size2(square: 3), padding: .explicit(top: 0, bottom: 1, left: 2, right: 0)))])[0]
        #expect(asym.output == Shape([1, 3, 4]))
    }

    @Test func groupsMustDivideChannels() {
        #expect(throws: ZooError.self) {
            try infer([6, 8, 8], [.convolution(Convolution(filters: 4, kernel: Size2(square: 1), groups: 4))])
        }
    }

    @Test func lenetConnectionTableAndSubsampling() throws {
        // C3: 60 map-to-map links of 5×5 + 16 biases = 1,516; × 10·10 = 151,600 connections.
        let table = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5], [0, 1, 2, 3], [1, 2, 3, 4],
                     [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]
        let c3 = try infer([6, 14, 14], [.convolution(Convolution(filters: 16, kernel: Size2(square: 5), connections: table))])[0]
        #expect(c3.trainableParameters == 1_516)
        #expect(c3.connections == 151_600)
        #expect(c3.parameters.first { $0.name == "kernel" }?.shape == [60, 5, 5])
        // S2: one coefficient and one bias per map; (4 + 1)·6·14·14 = 5,880 connections.
        let s2 = try infer([6, 28, 28], [.subsampling(Subsampling(kernel: Size2(square: 2)))])[0]
        #expect(s2.trainableParameters == 12)
        #expect(s2.connections == 5_880)
        // A table row naming a map that does not exist is an error naming the row.
        #expect { try infer([6, 14, 14], [.convolution(Convolution(filters: 1, kernel: Size2(square: 5), connections: [[0, 6]]))]) }
            throws: { "\($0)".contains("row 0") }
    }

    @Test func batchNormDenseAndRBF() throws {
        let infos = try infer([64, 8, 8], [.batchNorm(BatchNorm()), .flatten, .dense(Dense(units: 10)), .rbf(RBFOutput(units: 3))])
        #expect(infos[0].trainableParameters == 128)      // γ, β
        #expect(infos[0].nonTrainableParameters == 128)   // running mean, variance
        #expect(infos[1].output == Shape([4096]))
        #expect(infos[2].parameterCount == 4096 * 10 + 10)
        #expect(infos[2].parameters.first?.shape == [10, 4096])   // (out, in)
        #expect(infos[3].nonTrainableParameters == 30)
        #expect(infos[3].connections == 30)
    }

    @Test func denseNeedsAVector() {
        #expect { try infer([3, 4, 4], [.dense(Dense(units: 2))]) } throws: { "\($0)".contains("add a `flatten` layer") }
    }

    @Test func receptiveFieldGrowsAsTheFormulaSays() throws {
        // VGG's first stage: 3×3 → 3, 3×3 → 5, 2×2/2 pool → 6 (jump 2), then 3×3 → 10.
        let infos = try infer([3, 32, 32], [
            .convolution(Convolution(filters: 4, kernel: Size2(square: 3), padding: .symmetric(1))),
            .convolution(Convolution(filters: 4, kernel: Size2(square: 3), padding: .symmetric(1))),
            .pooling(Pooling(mode: .max, kernel: Size2(square: 2))),
            .convolution(Convolution(filters: 4, kernel: Size2(square: 3), padding: .symmetric(1))),
        ])
        #expect(infos.map(\.receptiveField.h.size) == [3, 5, 6, 10])
        #expect(infos.map(\.receptiveField.h.jump) == [1, 1, 2, 2])
        // The first unit of a padded 3×3 is centred on pixel 0 (coordinate 0.5).
        #expect(infos[0].receptiveField.h.start == 0.5)
    }

    @Test func joinsCheckShapes() throws {
        let a = Layer(name: "a", kind: .convolution(Convolution(filters: 4, kernel: Size2(square: 1))), inputs: [])
        let b = Layer(name: "b", kind: .convolution(Convolution(filters: 6, kernel: Size2(square: 1))), inputs: [])
        let cat = Layer(name: "cat", kind: .concat, inputs: ["a", "b"])
        let infos = try Network(name: "t", input: Shape([3, 5, 5]), layers: [a, b, cat]).infer()
        #expect(infos[2].output == Shape([10, 5, 5]))
        let add = Layer(name: "sum", kind: .add, inputs: ["a", "b"])
        #expect { try Network(name: "t", input: Shape([3, 5, 5]), layers: [a, b, add]).infer() }
            throws: { "\($0)".contains("add needs inputs of one shape") && "\($0)".contains("`b` 6×5×5") }
        let pad = Layer(name: "pad", kind: .padShortcut(PadShortcut(filters: 8, stride: 2)), inputs: ["a"])
        let padded = try Network(name: "t", input: Shape([3, 5, 5]), layers: [a, pad]).infer()
        #expect(padded[1].output == Shape([8, 3, 3]))
    }

    @Test func graphErrors() {
        let conv = LayerKind.convolution(Convolution(filters: 1, kernel: Size2(square: 1)))
        // A cycle.
        #expect { try Network(name: "t", input: Shape([1, 4, 4]), layers: [
            Layer(name: "a", kind: conv, inputs: ["b"]), Layer(name: "b", kind: conv, inputs: ["a"])]) }
            throws: { "\($0)".contains("cycle") }
        // A reference to a missing layer, with a suggestion.
        #expect { try Network(name: "t", input: Shape([1, 4, 4]), layers: [
            Layer(name: "conv1", kind: conv, inputs: []), Layer(name: "b", kind: conv, inputs: ["conv2"])]) }
            throws: { "\($0)".contains("input `conv2` is not a layer") && "\($0)".contains("did you mean `conv1`") }
        // A name used twice.
        #expect(throws: ZooError.self) { try Network(name: "t", input: Shape([1, 4, 4]), layers: [
            Layer(name: "a", kind: conv, inputs: []), Layer(name: "a", kind: conv, inputs: [])]) }
    }

    @Test func figuresParseWithTheirRounding() {
        #expect(Check.parseFigure("138M")! == (138e6, 0.5e6))
        #expect(Check.parseFigure("1.8G")! == (1.8e9, 0.05e9))
        #expect(Check.parseFigure("60,965,224")! == (60_965_224, 0))
        let k = Check.parseFigure("2.7K", kilo: 1024)!
        #expect(abs(k.value - 2764.8) < 1e-9 && abs(k.tolerance - 51.2) < 1e-9)
    }
}
