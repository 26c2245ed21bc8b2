import Testing
import ZooCore
@testable import ZooWeights

struct LayoutConversionTests {
    @Test func hwioToOIHWMovesEachWeight() {
        // kh = 2, kw = 3, in = 2, out = 4; value encodes its HWIO index.
        let shape = [2, 3, 2, 4]
        let hwio = (0..<48).map(Float.init)
        let oihw = LayoutConversion.oihw(fromHWIO: hwio, shape: shape)
        // OIHW[o=3][i=1][y=1][x=2] = HWIO[y=1][x=2][i=1][o=3] = ((1·3 + 2)·2 + 1)·4 + 3 = 47.
        #expect(oihw[((3 * 2 + 1) * 2 + 1) * 3 + 2] == 47)
        #expect(oihw[0] == 0)
        #expect(LayoutConversion.hwio(fromOIHW: oihw, shape: [4, 2, 2, 3]) == hwio)
    }

    @Test func denseAfterAChannelsLastFlatten() {
        // A 2×1×2 map (c = 2, h = 1, w = 2): Keras flattens (h, w, c) → [x00c0, x00c1, x01c0, x01c1];
        // Zoo flattens (c, h, w) → [c0x00, c0x01, c1x00, c1x01].
        let inputs = 4, outputs = 1
        let keras: [Float] = [10, 11, 20, 21]      // weight per Keras input row
        let zoo = LayoutConversion.outIn(fromInOut: keras, inputs: inputs, outputs: outputs, flattenedFrom: Shape([2, 1, 2]))
        #expect(zoo == [10, 20, 11, 21])
        // Without a map, a plain transpose.
        let t = LayoutConversion.outIn(fromInOut: [1, 2, 3, 4, 5, 6], inputs: 3, outputs: 2)
        #expect(t == [1, 3, 5, 2, 4, 6])
    }
}
