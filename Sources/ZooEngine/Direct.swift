import CZooGEMM
import Foundation

/// A convolution without im2col, for Zoo's GEMM (`zoo_conv_direct`): the input is copied once
/// into a padded "grid", split by column and row phase where the stride is above 1, so that each
/// tap (c, ky, kx) of the filters reads a contiguous run of it; the GEMM loads its B rows from
/// there instead of from an im2col matrix kh·kw times the input's size.
///
/// Grid plane (c, ry, rx), row Y, column X holds the padded input at row sh·Y + ry, column
/// sw·X + rx; tap (c, ky, kx) with ky·dh = sh·qy + ry and kx·dw = sw·qx + rx reads, for output
/// (oy, ox), grid position (oy + qy)·wq + ox + qx of its plane: a run over ox, and over oy too
/// when the output is computed on the grid's wider rows (wq ≥ outWidth; the extra columns are
/// computed and dropped as C is stored).
struct DirectConvolution: Sendable {
    /// Grid rows and columns per plane.
    let hq: Int, wq: Int
    /// The (row, column) phases the taps read, in plane order within a channel.
    let phases: [Int]
    let sh: Int, sw: Int
    /// Floats per plane (hq·wq, rounded up to whole cache lines).
    let planeSize: Int
    /// Per tap of one group, (c, ky, kx) order as the filters' columns: its run's start.
    let offsets: [Int32]
    let inChannels: Int, height: Int, width: Int, padTop: Int, padLeft: Int
    /// Grid rows below an output row that its taps read (the largest qy).
    let reach: Int

    /// `ZOO_DIRECT=0` keeps im2col (to compare the two on the same run).
    static let enabled = ProcessInfo.processInfo.environment["ZOO_DIRECT"] != "0"

    /// Floats of one image's grid.
    var imageSize: Int { inChannels * phases.count * planeSize }

    /// Grid columns `zoo_conv_direct` computes per image: all rows but the last on the wide grid.
    func columns(outHeight: Int, outWidth: Int) -> Int { (outHeight - 1) * wq + outWidth }

    /// The direct form of `k`, or nil where im2col costs less: where the grid's extra columns
    /// would add more than 16 % to the GEMM's FMAs (`zoo_gemm_fmas`: the grid's tiles of whole
    /// 16-float vectors against the plain map's, whose 7 × 7 and 14 × 14 maps take tiles of 49
    /// columns) — measured by `zoo bench --gemm`, which times both forms: AlexNet's conv2, 27 × 27
    /// on a grid 31 wide, +15 %: direct 0.94× im2col's time; its conv3, 13 × 13 on 15, +18 %:
    /// 1.08×; ResNet-50's conv5_1.conv_b, 7 × 7 on a grid 8 wide, +28 % (32 FMAs per k against
    /// 25): im2col 0.87× the direct time in the network; its conv4_1.conv_b, +12 %: 0.96×, kept.
    /// `always` skips that choice (tests run every shape through both forms).
    init?(_ k: ConvolutionKernel, always: Bool = false) {
        guard always || Self.enabled, k.outHeight > 0, k.outWidth > 0 else { return nil }
        sh = k.sh; sw = k.sw
        let reachX = (k.kw - 1) * k.dw / k.sw
        reach = (k.kh - 1) * k.dh / k.sh
        wq = k.outWidth + reachX
        hq = k.outHeight + reach
        let grid = (k.outHeight - 1) * wq + k.outWidth, plain = k.outHeight * k.outWidth
        let depth = Int32(k.columnRows)
        guard always || 100 * zoo_gemm_fmas(depth, Int32(grid), wq > k.outWidth ? 1 : 0) <= 116 * zoo_gemm_fmas(depth, Int32(plain), 0) else { return nil }
        var used: [Int] = []
        for ky in 0..<k.kh {
            for kx in 0..<k.kw {
                let p = (ky * k.dh % k.sh) * k.sw + kx * k.dw % k.sw
                if !used.contains(p) { used.append(p) }
            }
        }
        phases = used.sorted()
        planeSize = (hq * wq + 15) / 16 * 16
        inChannels = k.inChannels; height = k.height; width = k.width; padTop = k.padTop; padLeft = k.padLeft
        var offsets: [Int32] = []
        let np = phases.count
        for c in 0..<(k.inChannels / k.groups) {
            for ky in 0..<k.kh {
                for kx in 0..<k.kw {
                    let y = ky * k.dh, x = kx * k.dw
                    let p = phases.firstIndex(of: (y % k.sh) * k.sw + x % k.sw)!
                    offsets.append(Int32((c * np + p) * planeSize + (y / k.sh) * wq + x / k.sw))
                }
            }
        }
        guard k.inChannels * np * planeSize < Int(Int32.max) else { return nil }
        self.offsets = offsets
    }

    /// Writes grid rows `rows` (clamped to the grid) of channels `channels` of one image `input`
    /// [C, H, W] into `grid` (one image's grid, laid out in full).
    func fill(_ input: UnsafePointer<Float>, channels: Range<Int>, rows: Range<Int>, _ grid: UnsafeMutablePointer<Float>) {
        let rows = max(0, rows.lowerBound)..<min(hq, rows.upperBound)
        for c in channels {
            let plane = input + c * height * width
            for (i, p) in phases.enumerated() {
                let ry = p / sw, rx = p % sw
                let target = grid + (c * phases.count + i) * planeSize
                let x0 = rx - padLeft
                for Y in rows {
                    let y = sh * Y + ry - padTop, out = target + Y * wq
                    if y < 0 || y >= height {
                        out.update(repeating: 0, count: wq)
                    } else {
                        zoo_im2col_row(plane + y * width, Int32(width), Int32(x0), Int32(sw), Int32(wq), out)
                    }
                }
            }
        }
    }
}
