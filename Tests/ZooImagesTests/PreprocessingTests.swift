import Testing
import ZooCore
@testable import ZooImages

struct PreprocessingTests {
    static let red = Image(width: 1, height: 1, channels: 3, pixels: [255, 0, 0])

    @Test func caffeOnAPureRedPixel() throws {
        var caffe = try Preprocessing.preset("caffe", height: 1, width: 1)
        caffe.geometry = .exact
        let x = caffe.apply(to: Self.red)
        #expect(x.shape == [1, 3, 1, 1])
        // [B, G, R] = [0 − 103.939, 0 − 116.779, 255 − 123.68]
        #expect(abs(x[0, 0, 0, 0] - -103.939) < 1e-4 && abs(x[0, 1, 0, 0] - -116.779) < 1e-4 && abs(x[0, 2, 0, 0] - 131.32) < 1e-3)
    }

    @Test func torchOnAPureRedPixel() throws {
        var torch = try Preprocessing.preset("torch", height: 1, width: 1)
        torch.geometry = .exact
        let x = torch.apply(Self.red)
        // [(1 − 0.485)/0.229, (0 − 0.456)/0.224, (0 − 0.406)/0.225] = [2.2489, −2.0357, −1.8044]
        #expect(abs(x[0] - 2.248908) < 1e-5 && abs(x[1] - -2.035714) < 1e-5 && abs(x[2] - -1.804444) < 1e-5)
    }

    @Test func rawKeepsTheValues() throws {
        var raw = try Preprocessing.preset("raw", height: 1, width: 1)
        raw.geometry = .exact
        #expect(raw.apply(Image(width: 1, height: 1, channels: 3, pixels: [12, 34, 56])) == [12, 34, 56])
    }

    /// LeNet-5 §II.B: background (no ink) −0.1, full ink 1.175; value = −0.1 + 1.275 · ink.
    @Test func lenetValuesAndField() throws {
        let lenet = try Preprocessing.preset("lenet", height: 32, width: 32)
        #expect(lenet.geometry == .centredField(28) && lenet.ink == .lightOnDark && lenet.channels == 1)
        // A white 28×28 "digit" on black (MNIST's way round): 1.175 in the field, −0.1 in the border.
        let white = Image(width: 28, height: 28, channels: 1, pixels: [UInt8](repeating: 255, count: 784))
        let l = lenet.apply(white)
        #expect(l.count == 32 * 32)
        #expect(abs(l[0] - -0.1) < 1e-6 && abs(l[1 * 32 + 1] - -0.1) < 1e-6)
        #expect(abs(l[2 * 32 + 2] - 1.175) < 1e-5 && abs(l[29 * 32 + 29] - 1.175) < 1e-5)
        // Grey 51 (ink 0.2): −0.1 + 1.275 · 0.2 = 0.155.
        let grey = Image(width: 28, height: 28, channels: 1, pixels: [UInt8](repeating: 51, count: 784))
        #expect(abs(lenet.apply(grey)[16 * 32 + 16] - 0.155) < 1e-5)
        // Dark ink on white paper: the same numbers once inverted.
        var paper = lenet
        paper.ink = .darkOnLight
        let black = Image(width: 28, height: 28, channels: 1, pixels: [UInt8](repeating: 0, count: 784))
        #expect(paper.apply(black) == l)
        // A wide image keeps its aspect ratio: 56×28 → 28×14, rows 9…22 of the input.
        let wide = Image(width: 56, height: 28, channels: 1, pixels: [UInt8](repeating: 255, count: 56 * 28))
        let w = lenet.apply(wide)
        #expect(abs(w[8 * 32 + 16] - -0.1) < 1e-6 && abs(w[9 * 32 + 16] - 1.175) < 1e-5 && abs(w[22 * 32 + 16] - 1.175) < 1e-5)
    }

    @Test func imageNetGeometryByNetwork() throws {
        let vgg = try Preprocessing.preset("caffe", height: 224, width: 224)
        #expect(vgg.geometry == .shorterSideThenCentreCrop(shorterSide: 256))
        let alexnet = try Preprocessing.preset("torch", height: 227, width: 227)
        #expect(alexnet.resize == 256)
        let photo = Image(width: 500, height: 375, channels: 3, pixels: [UInt8](repeating: 200, count: 500 * 375 * 3))
        #expect(alexnet.apply(to: photo).shape == [1, 3, 227, 227])
        #expect(try Preprocessing.preset("raw", height: 299, width: 299).resize == 342)   // round(299 · 8/7)
        #expect(throws: ZooError.self) { try Preprocessing.preset("imagenet", height: 224, width: 224) }
    }

    @Test func batchStacking() throws {
        let images = [Image(width: 300, height: 200, channels: 3, pixels: [UInt8](repeating: 100, count: 180_000)),
                      Image(width: 50, height: 80, channels: 1, pixels: [UInt8](repeating: 100, count: 4000)),
                      Image(width: 64, height: 64, channels: 4, pixels: [UInt8](repeating: 100, count: 64 * 64 * 4))]
        let caffe = try Preprocessing.preset("caffe", height: 224, width: 224)
        let batch = caffe.batch(images)
        #expect(batch.shape == [3, 3, 224, 224])
        #expect(abs(batch[1, 2, 100, 100] - (100 - 123.68)) < 1e-3)   // grey → RGB; channel 2 is R under BGR
        #expect(Array(batch.data[(2 * 3 * 224 * 224)...]) == caffe.apply(to: images[2]).data)
    }

    @Test(arguments: ["caffe", "torch", "lenet", "raw"])
    func recordRoundTrips(_ name: String) throws {
        var p = try Preprocessing.preset(name, height: name == "lenet" ? 32 : 224, width: name == "lenet" ? 32 : 224)
        #expect(try Preprocessing(record: p.record) == p)
        #expect(try Preprocessing(attributes: p.attributes) == p)
        p.ink = .darkOnLight; p.geometry = .exact; p.preset = "custom"
        #expect(try Preprocessing(record: p.record) == p)
    }

    @Test func recordValuesAreSimple() throws {
        let r = try Preprocessing.preset("caffe", height: 224, width: 224).record
        #expect(r["preprocessing_preset"] == .string("caffe"))
        #expect(r["preprocessing_channels"] == .string("bgr"))
        #expect(r["preprocessing_mean"] == .doubles([103.939, 116.779, 123.68]))
        #expect(r["preprocessing_resize"] == .string("shorter_side_then_centre_crop"))
        #expect(r["preprocessing_shorter_side"] == .int(256))
        #expect(r["preprocessing_height"] == .int(224))
        #expect(try Preprocessing.preset("torch", height: 224, width: 224).attributes["preprocessing_std"] == "0.229,0.224,0.225")
    }

    @Test func aRecordNamingOnlyAPreset() throws {
        // What older weight files carry: the preset and nothing else; the size comes from the network.
        let p = try Preprocessing(record: ["preprocessing_preset": .string("torch"), "architecture": .string("vgg16")],
                                  inputHeight: 224, inputWidth: 224)
        #expect(p == (try Preprocessing.preset("torch", height: 224, width: 224)))
        #expect(throws: ZooError.self) { try Preprocessing(record: ["preprocessing_preset": .string("torch")]) }
    }

    @Test func aCustomRecord() throws {
        let p = try Preprocessing(record: ["preprocessing_channels": .string("grey"), "preprocessing_mean": .double(128),
                                           "preprocessing_std": .string("64"), "preprocessing_height": .double(28),
                                           "preprocessing_width": .int(28), "preprocessing_resize": .string("exact")])
        #expect(p.order == .grey && p.mean == [128] && p.std == [64] && p.height == 28 && p.geometry == .exact && p.preset == "custom")
    }

    @Test(arguments: [
        (["preprocessing_preset": Preprocessing.RecordValue.string("torch"), "preprocessing_channels": .string("cmyk")], "channels `cmyk`"),
        (["preprocessing_preset": .string("torch"), "preprocessing_mean": .string("a,b,c")], "preprocessing_mean should be a list of numbers"),
        (["preprocessing_preset": .string("torch"), "preprocessing_std": .doubles([1, 0, 1])], "std must be non-zero"),
        (["preprocessing_preset": .string("torch"), "preprocessing_channels": .string("grey")], "grey input needs one mean"),
        (["preprocessing_preset": .int(3)], "preprocessing_preset should be a string"),
        (["preprocessing_channels": .string("rgb")], "names no preset and lacks preprocessing_mean"),
    ])
    func badRecordsAreClearErrors(_ record: [String: Preprocessing.RecordValue], _ message: String) {
        let error = #expect(throws: ZooError.self) { try Preprocessing(record: record, inputHeight: 224, inputWidth: 224) }
        #expect("\(error.map { "\($0)" } ?? "")".contains(message), "got \(String(describing: error))")
    }

    /// Flags: a preset name with overrides after commas.
    @Test func overridesInThePresetName() throws {
        let p = try Preprocessing.preset("lenet,ink=dark_on_light", height: 32, width: 32)
        #expect(p.ink == .darkOnLight && p.preset == "lenet")
        #expect(try Preprocessing.preset("torch, shorter_side=288", height: 224, width: 224).resize == 288)
        #expect(try Preprocessing.preset("caffe,resize=exact", height: 224, width: 224).geometry == .exact)
        #expect(try Preprocessing.preset("raw,channels=bgr", height: 224, width: 224).order == .bgr)
        let error = #expect(throws: ZooError.self) { try Preprocessing.preset("caffe,crop=1", height: 224, width: 224) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("unknown setting `crop`"))
        #expect(throws: ZooError.self) { try Preprocessing.preset("caffe,shorter_side", height: 224, width: 224) }
    }
}
