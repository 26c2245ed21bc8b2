import Foundation
import Testing
import ZooCore
@testable import ZooEngine

/// Training on small synthetic data: the loss falls and the same seed gives the same weights bit
/// for bit.
struct TrainingTests {
    /// 60 8×8 "digits" of three classes: a bright row, a bright column, a bright diagonal, plus noise.
    static func data(seed: UInt64) -> (Tensor, [Int]) {
        var rng = RandomSource(seed: seed)
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<60 {
            let c = i % 3
            for y in 0..<8 { for x in 0..<8 {
                let on = (c == 0 && y == 3) || (c == 1 && x == 4) || (c == 2 && x == y)
                values.append((on ? 1 : 0) + Float(rng.normal() * 0.2))
            } }
            labels.append(c)
        }
        return (Tensor(shape: [60, 1, 8, 8], data: values), labels)
    }

    static func network() throws -> Network {
        try DefinitionFile(text: """
            name: t
            input: [1, 8, 8]
            layers:
              - {name: conv, type: conv, filters: 4, kernel: 3, padding: 1}
              - {name: act, type: tanh}
              - {name: pool, type: avgpool, kernel: 2}
              - {name: flatten, type: flatten}
              - {name: fc, type: dense, units: 3}
              - {name: prob, type: softmax}
            """, path: "t.yaml").network(named: "t")
    }

    @Test func lossFallsAndTheSameSeedGivesTheSameWeights() throws {
        let (x, y) = Self.data(seed: 1)
        func train(epochs: Int) throws -> (Trainer, [Trainer.EpochResult]) {
            let trainer = Trainer(model: try Model.randomlyInitialised(Self.network(), seed: 2), optimizer: SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4))
            var rng = RandomSource(seed: 3)
            let results = try (0..<epochs).map { _ in try trainer.trainEpoch(images: x, labels: y, batch: 10, rng: &rng) }
            return (trainer, results)
        }
        let (a, history) = try train(epochs: 8)
        #expect(history.last!.loss < history.first!.loss / 3, "loss \(history.map(\.loss))")
        #expect(try a.evaluate(images: x, labels: y).errorRate < 0.1)
        let (b, _) = try train(epochs: 8)
        #expect(a.model.parameters["conv"]!["kernel"] == b.model.parameters["conv"]!["kernel"])
        #expect(a.model.parameters["fc"]!["bias"] == b.model.parameters["fc"]!["bias"])
    }

    @Test func mnistInputsAsLeNetReadsThem() {
        // One 28×28 image, left half ink 255: inside the centred field 1.175, outside −0.1.
        var pixels = [Float](repeating: 0, count: 784)
        for yy in 0..<28 { for xx in 0..<14 { pixels[yy * 28 + xx] = 255 } }
        let d = Dataset(name: "one", images: Tensor(shape: [1, 1, 28, 28], data: pixels), labels: [0], classes: ["0"])
        let t = d.lenetInput()
        #expect(t.shape == [1, 1, 32, 32])
        #expect(abs(t[0, 0, 0, 0] - (-0.1)) < 1e-6)
        #expect(abs(t[0, 0, 10, 5] - 1.175) < 1e-5)
        #expect(abs(t[0, 0, 10, 25] - (-0.1)) < 1e-6)
    }
}

struct ScheduleTests {
    @Test func schedules() throws {
        #expect(try LearningRateSchedule(parsing: "constant").multiplier(epoch: 30) == 1)
        let step = try LearningRateSchedule(parsing: "step:5:0.5")
        #expect([1, 5, 6, 10, 11].map { step.multiplier(epoch: $0) } == [1, 1, 0.5, 0.5, 0.25])
        let paper = LearningRateSchedule.paper
        #expect([1, 2, 3, 5, 6, 8, 9, 12, 13, 20].map { paper.multiplier(epoch: $0) } == [1, 1, 0.4, 0.4, 0.2, 0.2, 0.1, 0.1, 0.02, 0.02])
        #expect(throws: ZooError.self) { try LearningRateSchedule(parsing: "step:0:0.5") }
        #expect(throws: ZooError.self) { try LearningRateSchedule(parsing: "cosine") }
    }
}
