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

/// Batch norm and dropout in training, frozen layers, and resuming with the momentum buffers.
struct TrainingModeTests {
    static func network() throws -> Network {
        try DefinitionFile(text: """
            name: bnd
            input: [1, 8, 8]
            layers:
              - {name: conv, type: conv, filters: 4, kernel: 3, padding: 1}
              - {name: bn, type: batchnorm}
              - {name: act, type: relu}
              - {name: pool, type: maxpool, kernel: 2}
              - {name: flatten, type: flatten}
              - {name: drop, type: dropout, rate: 0.2}
              - {name: fc, type: dense, units: 3}
              - {name: prob, type: softmax}
            """, path: "bnd.yaml").network(named: "bnd")
    }

    func trainer() throws -> Trainer {
        Trainer(model: try Model.randomlyInitialised(Self.network(), seed: 2), optimizer: SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4))
    }

    @Test func batchNormAndDropoutLearnAndMovingStatisticsFollowTheData() throws {
        let (x, y) = TrainingTests.data(seed: 1)
        let t = try trainer()
        var rng = RandomSource(seed: 3)
        let results = try (0..<8).map { _ in try t.trainEpoch(images: x, labels: y, batch: 10, rng: &rng) }
        #expect(results.last!.loss < results.first!.loss / 2, "loss \(results.map(\.loss))")
        #expect(try t.evaluate(images: x, labels: y).errorRate < 0.1)
        // The moving mean and variance approach the statistics of the convolution's output over the data.
        let conv = try Engine(model: t.model, threads: 1, foldBatchNorm: false).run(x, outputs: ["conv"])["conv"]!
        let (mean, variance) = conv.data.withUnsafeBufferPointer { Engine.channelStatistics($0.baseAddress!, batch: 60, channels: 4, area: 64) }
        let moving = t.model.parameters["bn"]!
        for c in 0..<4 {
            #expect(abs(Double(moving["moving_mean"]!.data[c]) - mean[c]) < 0.1 * max(1, abs(mean[c])), "mean of channel \(c)")
            #expect(abs(Double(moving["moving_variance"]!.data[c]) - variance[c]) < 0.25 * variance[c] + 0.05, "variance of channel \(c)")
        }
    }

    @Test func frozenLayersKeepTheirParametersAndStatistics() throws {
        let (x, y) = TrainingTests.data(seed: 1)
        let t = try trainer()
        t.frozen = ["conv", "bn"]
        let before = t.model.parameters
        var rng = RandomSource(seed: 3)
        _ = try t.trainEpoch(images: x, labels: y, batch: 10, rng: &rng)
        #expect(t.model.parameters["conv"] == before["conv"])
        #expect(t.model.parameters["bn"] == before["bn"])
        #expect(t.model.parameters["fc"] != before["fc"])
    }

    /// Four epochs in one go, or two, a checkpoint (weights and momentum) and two more: the same
    /// weights bit for bit, dropout masks included.
    @Test func resumingWithTheMomentumIsExact() throws {
        let (x, y) = TrainingTests.data(seed: 1)
        let whole = try trainer()
        var rng = RandomSource(seed: 3)
        for _ in 0..<4 { _ = try whole.trainEpoch(images: x, labels: y, batch: 10, rng: &rng) }

        let first = try trainer()
        var rng1 = RandomSource(seed: 3)
        for _ in 0..<2 { _ = try first.trainEpoch(images: x, labels: y, batch: 10, rng: &rng1) }
        let second = Trainer(model: first.model, optimizer: SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4))
        second.optimizer.velocity = first.optimizer.velocity
        var rng2 = RandomSource(seed: 3)
        second.skipEpochs(2, count: y.count, rng: &rng2)
        for _ in 0..<2 { _ = try second.trainEpoch(images: x, labels: y, batch: 10, rng: &rng2) }
        #expect(second.model.parameters == whole.model.parameters)

        // Without the momentum the run differs (what the checkpoint's optimizer_state is for).
        let forgetful = Trainer(model: first.model, optimizer: SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4))
        var rng3 = RandomSource(seed: 3)
        forgetful.skipEpochs(2, count: y.count, rng: &rng3)
        for _ in 0..<2 { _ = try forgetful.trainEpoch(images: x, labels: y, batch: 10, rng: &rng3) }
        #expect(forgetful.model.parameters["fc"] != whole.model.parameters["fc"])
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
