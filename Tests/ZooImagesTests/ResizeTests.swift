import Testing
@testable import ZooImages

struct ResizeTests {
    /// Against Pillow's `resize(…, BILINEAR, reducing_gap=None)`. Pillow keeps 8 bits after each
    /// pass and computes in fixed point (weights scaled to 2^22, results rounded), so its output
    /// can differ from our Float result by up to about 1; the measured maximum is printed.
    @Test(arguments: ["shrink", "enlarge", "shrink-strong", "shrink-x"])
    func bilinearResizeMatchesPillow(_ label: String) throws {
        let source = FloatImage(try Image(contentsOf: Fixtures.path("resize-source.png")))
        let e = Fixtures.expected["resize-" + label]!
        let ours = source.resized(width: e.width, height: e.height)
        #expect(ours.width == e.width && ours.height == e.height && ours.channels == 3)
        let diff = Fixtures.maxDifference(ours.values, e.pixels!)
        let rounded = Fixtures.maxDifference(ours.quantised.pixels.map(Float.init), e.pixels!)
        print("resize \(label) 32×24 → \(e.width)×\(e.height): max |ours − Pillow| \(diff) (after rounding ours: \(rounded))")
        #expect(diff <= 1)
    }

    /// The weights by hand: shrinking 4 → 2 stretches the triangle to radius 2. Output 0 samples at
    /// x = 1: input centres 0.5, 1.5, 2.5 weigh 1 − 0.5/2, 1 − 0.5/2, 1 − 1.5/2 = 0.75, 0.75, 0.25;
    /// the tap at −0.5 falls outside and the rest are renormalised: 3/7, 3/7, 1/7.
    /// Inside a longer row (8 → 4, output 1 at x = 3): 1/8, 3/8, 3/8, 1/8.
    @Test func antialiasingWeightsByHand() {
        let edge = ResamplingWeights(from: 4, to: 2).taps[0]
        #expect(edge.first == 0)
        let wanted: [Float] = [3.0 / 7, 3.0 / 7, 1.0 / 7]
        #expect(edge.weights.count == 3)
        for (w, v) in zip(edge.weights, wanted) { #expect(abs(w - v) < 1e-6) }
        let inner = ResamplingWeights(from: 8, to: 4).taps[1]
        #expect(inner.first == 1 && inner.weights == [0.125, 0.375, 0.375, 0.125])
        // Enlarging 2 → 4: plain linear interpolation, the edges clamped.
        let up = ResamplingWeights(from: 2, to: 4).taps
        #expect(up[0].first == 0 && up[0].weights == [1])                 // x = 0.25: only pixel 0
        #expect(up[1].first == 0 && up[1].weights == [0.75, 0.25])          // x = 0.75
        #expect(up[2].first == 0 && up[2].weights == [0.25, 0.75])          // x = 1.25
        #expect(up[3].first == 1 && up[3].weights == [1])
        // Same size: the identity.
        #expect(ResamplingWeights(from: 5, to: 5).taps.allSatisfy { $0.weights == [1] })
    }

    @Test func constantsStayConstantAndResizeIsSeparable() {
        let flat = FloatImage(width: 37, height: 23, channels: 2, values: [Float](repeating: 77, count: 37 * 23 * 2))
        for (w, h) in [(5, 4), (100, 61), (37, 1), (1, 1)] {
            #expect(flat.resized(width: w, height: h).values.allSatisfy { abs($0 - 77) < 1e-3 })
        }
        // A ramp in x resized in y only keeps its rows.
        let ramp = FloatImage(width: 4, height: 6, channels: 1, values: (0..<6).flatMap { _ in [0, 10, 20, 30] })
        #expect(ramp.resized(width: 4, height: 2).values == [0, 10, 20, 30, 0, 10, 20, 30])
    }

    @Test func shorterSideAndCentreCropGeometry() {
        // torchvision's Resize(256): the longer side truncated.
        #expect(FloatImage.shorterSideSize(width: 500, height: 375, side: 256) == (341, 256))
        #expect(FloatImage.shorterSideSize(width: 375, height: 500, side: 256) == (256, 341))
        #expect(FloatImage.shorterSideSize(width: 640, height: 480, side: 256) == (341, 256))
        #expect(FloatImage.shorterSideSize(width: 300, height: 300, side: 256) == (256, 256))
        // CenterCrop offsets: round((size − crop)/2), ties to even.
        #expect(FloatImage.centreOffset(size: 256, crop: 224) == 16)
        #expect(FloatImage.centreOffset(size: 341, crop: 224) == 58)   // 58.5 → 58
        #expect(FloatImage.centreOffset(size: 343, crop: 224) == 60)   // 59.5 → 60
        #expect(FloatImage.centreOffset(size: 256, crop: 227) == 14)   // 14.5 → 14

        // A 6×4 image whose value is its x: shorter side 4 keeps it, the centre 2×2 is x = 2, 3.
        let xs = FloatImage(width: 6, height: 4, channels: 1, values: (0..<4).flatMap { _ in (0..<6).map(Float.init) })
        let crop = xs.resizedAndCentreCropped(shorterSide: 4, crop: 2)
        #expect(crop.width == 2 && crop.height == 2 && crop.values == [2, 3, 2, 3])
        // Odd sizes: 7×5, value 10·y + x, crop 3 → offsets (2, 1).
        let grid = FloatImage(width: 7, height: 5, channels: 1, values: (0..<5).flatMap { y in (0..<7).map { Float(10 * y + $0) } })
        #expect(grid.resizedAndCentreCropped(shorterSide: 5, crop: 3).values == [12, 13, 14, 22, 23, 24, 32, 33, 34])
        // 4×2: offsets round(1.5) = 2 both ways (ties to even).
        #expect(grid.resizedAndCentreCropped(shorterSide: 5, cropWidth: 4, cropHeight: 2).values == [22, 23, 24, 25, 32, 33, 34, 35])
    }

    /// Computing only the kept window gives exactly what resizing everything and cropping gives.
    @Test func windowedResizeEqualsResizeThenCrop() throws {
        let source = FloatImage(try Image(contentsOf: Fixtures.path("resize-source.png")))
        let (w, h) = FloatImage.shorterSideSize(width: 32, height: 24, side: 15)   // 20×15
        let x = FloatImage.centreOffset(size: w, crop: 11), y = FloatImage.centreOffset(size: h, crop: 11)
        let full = source.resized(width: w, height: h).cropped(x: x, y: y, width: 11, height: 11)
        #expect(source.resizedAndCentreCropped(shorterSide: 15, crop: 11) == full)
    }

    @Test func fittingIntoACentredField() {
        // A 10×5 white image into a 28-pixel field centred in 32×32: 28×14 at (2, 9), 0 elsewhere.
        let white = FloatImage(width: 10, height: 5, channels: 1, values: [Float](repeating: 255, count: 50))
        let f = white.fitted(into: 28, centredIn: 32, 32, background: 0)
        #expect(f.width == 32 && f.height == 32)
        for y in 0..<32 {
            for x in 0..<32 {
                let inside = (2..<30).contains(x) && (9..<23).contains(y)
                #expect(abs(f[x, y, 0] - (inside ? 255 : 0)) < 1e-3, "(\(x), \(y))")
            }
        }
    }

    @Test func channelConversion() {
        let rgba = FloatImage(width: 1, height: 1, channels: 4, values: [255, 128, 0, 10])
        #expect(abs(rgba.converted(toChannels: 1).values[0] - (0.299 * 255 + 0.587 * 128)) < 1e-3)
        #expect(rgba.converted(toChannels: 3).values == [255, 128, 0])
        let grey = FloatImage(width: 1, height: 1, channels: 1, values: [9])
        #expect(grey.converted(toChannels: 3).values == [9, 9, 9])
        #expect(grey.converted(toChannels: 4).values == [9, 9, 9, 255])
    }
}
