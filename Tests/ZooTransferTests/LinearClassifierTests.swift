import Foundation
import Testing
import ZooCore
@testable import ZooTransfer

struct LinearClassifierTests {
    struct Reference: Decodable {
        var lambda: Double
        var features: [Float]
        var labels: [Int]
        var objective: Double
        var train_accuracy: Double
        var coef: [Double]
        var probabilities_first5: [Double]
    }

    static func reference() throws -> Reference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/classifier/digits_logreg.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    @Test func matchesScikitLearnsOptimum() throws {
        // The objective is strictly convex: both solvers must reach the same optimum.
        let ref = try Self.reference()
        let classes = (0..<10).map(String.init)
        let (head, report) = try LinearClassifier.fit(codes: ref.features, labels: ref.labels, classes: classes,
                                                      l2: ref.lambda, maxIterations: 2000)
        #expect(report.converged)
        #expect(abs(report.objective - ref.objective) < 1e-6 * max(1, ref.objective), "objective \(report.objective) vs scikit-learn \(ref.objective)")
        let maxCoef = ref.coef.map(abs).max()!
        let maxDiff = zip(head.weights, ref.coef).map { abs(Double($0) - $1) }.max()!
        #expect(maxDiff / maxCoef < 1e-3, "weights differ by \(maxDiff) (max |w| \(maxCoef))")
        let p = try head.probabilities(Array(ref.features[0..<(5 * 64)]))
        for (a, b) in zip(p, ref.probabilities_first5) { #expect(abs(Double(a) - b) < 1e-4) }
        let predicted = try head.predict(ref.features)
        let accuracy = Double(zip(predicted, ref.labels).filter { $0 == $1 }.count) / Double(ref.labels.count)
        #expect(accuracy == ref.train_accuracy)
    }

    @Test func stratifiedSplitIsDeterministicAndBalanced() throws {
        let labels = (0..<100).map { $0 % 4 }           // 25 of each class
        let a = try StratifiedSplit(labels: labels, holdout: 0.2, seed: 7)
        let b = try StratifiedSplit(labels: labels, holdout: 0.2, seed: 7)
        #expect(a.holdout == b.holdout)
        #expect(a.holdout.count == 20 && a.train.count == 80)
        for c in 0..<4 { #expect(a.holdout.filter { labels[$0] == c }.count == 5) }
        #expect(Set(a.holdout).isDisjoint(with: a.train))
        #expect(try StratifiedSplit(labels: labels, holdout: 0.2, seed: 8).holdout != a.holdout)
        #expect(throws: ZooError.self) { try StratifiedSplit(labels: labels, holdout: 1.5, seed: 1) }
    }

    @Test func confusionMatrixCounts() {
        let m = ConfusionMatrix(classes: ["cat", "dog"], truth: [0, 0, 1, 1, 1], predicted: [0, 1, 1, 1, 0])
        #expect(m.counts == [[1, 1], [1, 2]])
        #expect(abs(m.accuracy - 0.6) < 1e-12)
        #expect(m.rendered.contains("predicted"))
    }

    @Test func badInputIsAnError() {
        #expect(throws: ZooError.self) { try LinearClassifier.fit(codes: [1, 2, 3], labels: [0, 1], classes: ["a", "b"]) }
        #expect(throws: ZooError.self) { try LinearClassifier.fit(codes: [1, 2], labels: [0, 5], classes: ["a", "b"]) }
    }
}
