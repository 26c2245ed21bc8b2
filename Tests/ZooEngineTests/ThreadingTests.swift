import CZooGEMM
import Synchronization
import Testing
import ZooCore
@testable import ZooEngine

/// The engine shares each layer among its threads (whole images, bands of output rows, or shares of
/// the filters, each thread calling a single-threaded SGEMM). Every way must give the numbers of
/// one thread; the layer kinds themselves are checked against PyTorch in TorchFixtureTests.
struct ThreadingTests {
    /// Convolutions of every shape the sharing rules tell apart, a residual add with a fused ReLU,
    /// clipped pooling windows, and a fully-connected layer wide enough to be split.
    /// `dense: false` stops at the average pooling (no fully-connected tail).
    static func network(dense: Bool = true) throws -> Network {
        var b = NetworkBuilder("threads", input: [8, 12, 12])
        b.conv("c3x3", filters: 16, kernel: 3, padding: 1)               // rows at batch 1
        b.relu("r1")
        // Two branches of equal cost (an inception block's shape): they run side by side.
        b.conv("left", filters: 12, kernel: 3, padding: 1, inputs: ["r1"])
        b.conv("right", filters: 12, kernel: 3, padding: 1, inputs: ["r1"])
        b.concat("join", ["left", "right"])
        b.conv("c1x1", filters: 64, kernel: 1)                           // pointwise, rows
        b.conv("down", filters: 64, kernel: 3, stride: 2, padding: 1, rounding: .floor) // 6×6 map, 64 filters: filters
        b.relu("r2")
        b.conv("wide", filters: 96, kernel: 1)                           // pointwise, filters
        b.conv("shortcut", filters: 96, kernel: 1, stride: 2, rounding: .floor, inputs: ["c1x1"])
        b.residualAdd("add", ["wide", "shortcut"])
        b.relu("r3")                                                     // fused into the add
        b.conv("grouped", filters: 32, kernel: 3, padding: 1, groups: 2) // per group
        b.maxPool("maxpool", kernel: 3, stride: 2, padding: 1, rounding: .ceil)
        b.avgPool("avgpool", kernel: 3, stride: 1, padding: 1)
        if dense {
            b.flatten("flat")
            b.dense("fc1", units: 300)
            b.relu("r4")
            b.dense("fc2", units: 10)
        }
        return try b.build()
    }

    @Test func everyWayOfSharingGivesTheOneThreadNumbers() throws {
        let model = try Model.randomlyInitialised(Self.network(), seed: 5)
        let reference = try Engine(model: model, threads: 1)
        var modes = Set<String>()
        for batch in [1, 3, 4] {
            var rng = RandomSource(seed: UInt64(batch))
            let x = Tensor(shape: [batch, 8, 12, 12], data: (0..<(batch * 8 * 144)).map { _ in Float(rng.uniform() * 2 - 1) })
            let names = ["r1", "join", "c1x1", "r2", "r3", "grouped", "maxpool", "avgpool", "fc2"]
            let expected = try reference.run(x, outputs: names)
            for threads in [2, 3] {
                // Layer by layer (image streams are tested below).
                let engine = try Engine(model: model, threads: threads, imageStreams: false)
                for step in engine.steps {
                    if case .convolution(let raw, _, _) = step.operation { modes.insert("\(raw.sharing(batch: batch, threads: threads))") }
                }
                let got = try engine.run(x, outputs: names)
                for name in names {
                    let e = expected[name]!.data, g = got[name]!.data
                    let scale = e.map(abs).max()!
                    let worst = zip(e, g).map { abs($0 - $1) }.max()!
                    #expect(worst <= 1e-5 * scale, "\(name), batch \(batch), \(threads) threads: off by \(worst) (max |value| \(scale))")
                }
                // Only the final output requested: everything fused, buffers recycled — same numbers.
                let alone = try engine.run(x)["fc2"]!.data
                #expect(zip(alone, expected["fc2"]!.data).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
            }
        }
        #expect(modes.isSuperset(of: ["images", "rows", "filters"]), "modes exercised: \(modes)")
        let engine = try Engine(model: model, threads: 2, imageStreams: false)
        let branches = ["left", "right"].map { name in engine.layerNames.firstIndex(of: name)! }
        #expect(engine.sideBySide(branches, threads: 2)?.count == 2, "the two branches share a round")
    }

    /// A batch as image streams (each thread its share of the images, one at a time, up to the
    /// fully-connected tail, which runs on the joined batch) against the same batch layer by layer,
    /// on one to three threads, with layers requested before, at and after the cut, or none.
    @Test(arguments: [true, false])
    func imageStreamsGiveTheLayerByLayerNumbers(dense: Bool) throws {
        let model = try Model.randomlyInitialised(Self.network(dense: dense), seed: 6)
        let output = dense ? "fc2" : "avgpool"
        let requests = dense ? [["r1", "join", "down", "r3", "maxpool", "fc2"], ["flat"], ["r4", "maxpool"], []] : [["r1", "r3", "avgpool"], []]
        for batch in [1, 3, 4, 5] {
            var rng = RandomSource(seed: UInt64(10 + batch))
            let x = Tensor(shape: [batch, 8, 12, 12], data: (0..<(batch * 8 * 144)).map { _ in Float(rng.uniform() * 2 - 1) })
            for threads in [1, 2, 3] {
                let streams = try Engine(model: model, threads: threads)
                let layered = try Engine(model: model, threads: threads, imageStreams: false)
                #expect(streams.streamsImages(batch: batch) == (batch > 1))
                #expect(!layered.streamsImages(batch: batch))
                #expect(streams.streamCut.map { streams.layerNames[$0] } == (dense ? "flat" : nil))
                for names in requests {
                    let expected = try layered.run(x, outputs: names), got = try streams.run(x, outputs: names)
                    #expect(Set(got.keys) == Set(names.isEmpty ? [output] : names))
                    for name in expected.keys {
                        #expect(got[name]?.shape == expected[name]!.shape)
                        let e = expected[name]!.data, g = got[name]?.data ?? []
                        let worst = zip(e, g).map { abs($0 - $1) }.max() ?? .infinity
                        #expect(worst <= 1e-5 * max(1, e.map(abs).max()!), "\(name) of \(names), batch \(batch), \(threads) threads: off by \(worst)")
                    }
                }
            }
        }
        // Training keeps the whole batch together (its batch statistics).
        let training = try Engine(model: model, threads: 2, mode: .training(seed: 1))
        #expect(!training.streamsImages(batch: 4))
    }

    @Test func runsRepeatWithRecycledBuffers() throws {
        // A second run reuses the first run's buffers: nothing stale may leak into it.
        let model = try Model.randomlyInitialised(Self.network(), seed: 9)
        let engine = try Engine(model: model, threads: 2)
        let a = Tensor(shape: [2, 8, 12, 12], data: (0..<(2 * 8 * 144)).map { Float($0 % 11) - 5 })
        let b = Tensor(shape: [1, 8, 12, 12], data: (0..<(8 * 144)).map { Float($0 % 5) })
        let first = try engine.run(a)["fc2"]!
        let other = try engine.run(b)["fc2"]!
        #expect(try engine.run(a)["fc2"]! == first)
        #expect(try engine.run(b)["fc2"]! == other)
    }

    @Test func aThreadLeavesTheCPUItIsOn() {
        // What a worker does when it wakes on its caller's CPU: it moves, and may still run on
        // every CPU it could before (its affinity given back).
        let before = zoo_allowed_cpus()
        let cpu = zoo_current_cpu()
        #expect(cpu >= 0 && before >= 1)
        let moved = zoo_leave_cpu(cpu)
        #expect(zoo_allowed_cpus() == before)
        if before >= 2 {
            #expect(moved == 1 && zoo_current_cpu() != cpu)
        } else {
            #expect(moved == 0)
        }
        #expect(zoo_leave_cpu(-1) == 0)
    }

    /// A worker woken on its caller's CPU moves off it (`WorkerPool`): the caller and the worker
    /// are both put on one CPU (`zoo_move_to_cpu`), and the worker's next job must find it elsewhere.
    @Test(.enabled(if: WorkerPool.apart && zoo_allowed_cpus() >= 2, "needs two CPUs; ZOO_APART=0 leaves the worker"))
    func aWorkerOnItsCallersCPUMovesOff() throws {
        let cpu = zoo_current_cpu()
        let pool = WorkerPool(workers: 1)
        let moved = Mutex<[Int32]>([]), seen = Mutex<[Int: Int32]>([:])
        // The worker settles on the caller's CPU, then the caller; the next job finds them there.
        #expect(pool.run(parts: 2) { part in if part == 1 { moved.withLock { $0.append(zoo_move_to_cpu(cpu)) } } })
        moved.withLock { $0.append(zoo_move_to_cpu(cpu)) }
        #expect(moved.withLock { $0 } == [1, 1])
        #expect(pool.run(parts: 2) { part in
            let here = zoo_current_cpu()
            seen.withLock { $0[part] = here }
        })
        let cpus = seen.withLock { $0 }
        #expect(cpus[0] != nil && cpus[0] != cpus[1], "caller and worker on CPU \(cpus[0] ?? -1) together")
    }

    @Test func theCutFollowsTheFasterThread() {
        let balance = Balance()
        #expect(balance.cut(100) == 50 && balance.cut(2) == 1 && balance.cut(3) == 2)
        // The caller did 50 units in 1 ms, the worker 50 in 2 ms: finishing together takes a 2/3
        // share for the caller, approached by a quarter of the way from 1/2 each time.
        balance.update(callerUnits: 50, callerTime: 1_000_000, workerUnits: 50, workerTime: 2_000_000)
        #expect(abs(balance.callerFraction - (0.5 + (2.0 / 3 - 0.5) / 4)) < 1e-4)
        #expect(balance.cut(100) == 54)
        for _ in 0..<40 { balance.update(callerUnits: 50, callerTime: 1_000_000, workerUnits: 50, workerTime: 2_000_000) }
        #expect(abs(balance.callerFraction - 2.0 / 3) < 1e-3 && balance.cut(30) == 20)
        // Shares timed under 20 µs do not count; the fraction stays within 0.3 ... 0.7.
        balance.update(callerUnits: 1, callerTime: 10_000, workerUnits: 99, workerTime: 10_000)
        #expect(abs(balance.callerFraction - 2.0 / 3) < 1e-3)
        for _ in 0..<40 { balance.update(callerUnits: 90, callerTime: 1_000_000, workerUnits: 10, workerTime: 9_000_000) }
        #expect(abs(balance.callerFraction - 0.7) < 1e-4 && balance.cut(10) == 7 && balance.cut(2) == 1)
        balance.reset(to: 0.1)
        #expect(abs(balance.callerFraction - 0.3) < 1e-4)
    }

    @Test(.enabled(if: WorkerPool.balanced, "ZOO_BALANCE=0 cuts in halves")) func sharesAreCutWhereTheBalanceSays() {
        let seen = Mutex<[Int: [Range<Int>]]>([:])
        for (fraction, cut) in [(0.5, 5), (0.3, 3), (0.7, 7), (0.62, 6)] {
            let balance = Balance()
            balance.reset(to: fraction)
            seen.withLock { $0 = [:] }
            shareBalanced(10, parts: 2, balance: balance) { t, range in seen.withLock { $0[t, default: []].append(range) } }
            #expect(seen.withLock { $0 } == [0: [0..<cut], 1: [cut..<10]], "fraction \(fraction)")
        }
        // Where the numbers would depend on the cut, and on other thread counts: even shares.
        seen.withLock { $0 = [:] }
        let skewed = Balance()
        skewed.reset(to: 0.3)
        shareBalanced(10, parts: 2, movable: false, balance: skewed) { t, range in seen.withLock { $0[t, default: []].append(range) } }
        #expect(seen.withLock { $0 } == [0: [0..<5], 1: [5..<10]])
        seen.withLock { $0 = [:] }
        shareBalanced(9, parts: 3, balance: skewed) { t, range in seen.withLock { $0[t, default: []].append(range) } }
        #expect(seen.withLock { $0 } == [0: [0..<3], 1: [3..<6], 2: [6..<9]])
    }

    @Test func wherever2ThreadsCutTheNumbersAreTheSame() throws {
        // `shareBalanced` moves the cut between the two threads' shares from call to call (by how
        // fast each has been): every layer's output must not depend on where it falls.
        let model = try Model.randomlyInitialised(Self.network(), seed: 11)
        let engine = try Engine(model: model, threads: 2)
        let names = try Self.network().layers.map(\.name)
        for batch in [1, 3] {
            let x = Tensor(shape: [batch, 8, 12, 12], data: (0..<(batch * 8 * 144)).map { Float(($0 * 7) % 13) - 6 })
            var runs: [[String: Tensor]] = []
            for fraction in [0.5, 0.3, 0.7, 0.42] {
                WorkerPool.balance.reset(to: fraction)
                runs.append(try engine.run(x, outputs: names))
            }
            for run in runs.dropFirst() {
                for name in names { #expect(run[name]!.data == runs[0][name]!.data, "\(name), batch \(batch)") }
            }
        }
        WorkerPool.balance.reset(to: 0.5)
    }

    /// The engine learns whether a round of ready steps goes side by side or one step at a time
    /// (`RoundChoices`): the numbers must not depend on it.
    @Test(.enabled(if: PackedMatrices.enabled, "with OpenBLAS's SGEMM the learned rule keeps side by side"))
    func sideBySideOrOneAtATimeTheNumbersAreTheSame() throws {
        let model = try Model.randomlyInitialised(Self.network(), seed: 12)
        let names = try Self.network().layers.map(\.name)
        for (batch, streams) in [(1, true), (3, false)] {
            let engine = try Engine(model: model, threads: 2, imageStreams: streams)
            #expect(engine.sideBySide([engine.layerNames.firstIndex(of: "left")!, engine.layerNames.firstIndex(of: "right")!], threads: 2) != nil)
            let x = Tensor(shape: [batch, 8, 12, 12], data: (0..<(batch * 8 * 144)).map { Float(($0 * 5) % 11) - 5 })
            var runs: [[String: Tensor]] = []
            for rule in [Engine.RoundRule.sideBySide, .oneAtATime] + Array(repeating: .learned, count: 10) {
                engine.roundRule = rule
                runs.append(try engine.run(x, outputs: names))
                runs.append(try engine.run(x))
            }
            for (k, run) in runs.enumerated().dropFirst(2) {
                for (name, t) in run { #expect(t.data == runs[k % 2][name]!.data, "\(name), batch \(batch), run \(k)") }
            }
        }
    }

    @Test func roundsGoTheWayMeasuredFaster() {
        let rounds = RoundChoices()
        rounds.rule = .learned
        let key = [3, 5]
        #expect(rounds.sideBySide(key))
        rounds.record(key, together: 9_000_000)               // the first time: not counted
        #expect(rounds.sideBySide(key))
        rounds.record(key, together: 3_000_000)
        #expect(!rounds.sideBySide(key), "then one step at a time, to time each alone")
        rounds.record(3, alone: 1_000_000)
        rounds.record(5, alone: 1_000_000)
        #expect(!rounds.sideBySide(key), "2 ms one at a time against 3 side by side")
        rounds.record(3, alone: 3_000_000)                     // 1.5 ms on average now: 2.5 against 3
        #expect(!rounds.sideBySide(key) && !rounds.sideBySide(key) && !rounds.sideBySide(key))
        #expect(rounds.sideBySide(key), "every 8th time the other way")
        rounds.record(key, together: 600_000)                  // 3 + (0.6 − 3)/4 = 2.4 against 2.5
        #expect(rounds.sideBySide(key))
        #expect(rounds.sideBySide([3, 7]), "a new round starts side by side")
    }

    /// An inception block's branches write straight into the concat's output (one image at a
    /// time) where nothing else reads them: the numbers of the copying concat, whatever is
    /// requested, on one or two threads, layer by layer and in image streams.
    @Test func concatsInPlaceGiveTheCopiedNumbers() throws {
        var b = NetworkBuilder("inception", input: [6, 9, 9])
        b.conv("stem", filters: 16, kernel: 3, padding: 1)
        b.relu("stem_relu")
        b.conv("b1", filters: 8, kernel: 1, inputs: ["stem_relu"])
        b.relu("b1_relu")                                                  // fused: b1 writes its slice
        b.conv("b2_reduce", filters: 8, kernel: 1, inputs: ["stem_relu"])
        b.relu("b2_reduce_relu")
        b.conv("b2", filters: 12, kernel: 3, padding: 1)
        b.batchNorm("b2_bn")                                               // folded into b2
        b.relu("b2_relu")
        b.maxPool("b3_pool", kernel: 3, stride: 1, padding: 1, inputs: ["stem_relu"])
        b.conv("b3", filters: 4, kernel: 1)
        b.relu("b3_relu")
        b.concat("join", ["b1_relu", "b2_relu", "b3_relu"])
        b.conv("after", filters: 8, kernel: 3, stride: 2)
        b.relu("after_relu")
        // A second block whose first branch is read by another layer too: copied.
        b.conv("c1", filters: 6, kernel: 1, inputs: ["after_relu"])
        b.conv("c2", filters: 6, kernel: 1, inputs: ["after_relu"])
        b.concat("join2", ["c1", "c2"])
        b.residualAdd("add", ["join2", "join2"])
        b.conv("side", filters: 12, kernel: 1, inputs: ["c1"])
        b.concat("out", ["add", "side"])
        let network = try b.build()
        var params = try Model.randomParameters(network, seed: 21)
        params["b2_bn"] = ["gamma": Tensor(shape: [12], data: (0..<12).map { 0.5 + Float($0) / 12 }),
                           "beta": Tensor(shape: [12], data: (0..<12).map { Float($0) / 6 - 1 }),
                           "moving_mean": Tensor(shape: [12], data: (0..<12).map { Float($0 % 5) / 5 }),
                           "moving_variance": Tensor(shape: [12], data: (0..<12).map { 0.5 + Float($0 % 3) })]
        let model = try Model(network: network, parameters: params)
        let names = network.layers.map(\.name)
        for threads in [1, 2] {
            let engine = try Engine(model: model, threads: threads)
            for batch in [1, 3] {
                let x = Tensor(shape: [batch, 6, 9, 9], data: (0..<(batch * 486)).map { Float(($0 * 7) % 17) / 8 - 1 })
                // Concats in place per image: `join` unless one of its branches is requested (a
                // requested `b1` unfuses its ReLU, which then writes the slice instead); `out` (the add
                // and `side`) unless they are requested; never `join2`, whose `c1` `side` reads too.
                // Twice: the second time every run takes the plan the first made for its request.
                var first: [[String: Tensor]] = [], plans = 0
                for pass in 0..<2 {
                    if pass == 1 { plans = engine.planCount }
                    for (n, (requested, perImage)) in [([], 2), (["join"], 2), (["b2_relu", "out"], 1), (["b1", "join2"], 2), (names, 0)].enumerated() {
                        engine.writesConcatsInPlace = false
                        let copied = try engine.run(x, outputs: requested)
                        engine.writesConcatsInPlace = true
                        let before = engine.concatsDoneInPlace.load(ordering: .relaxed)
                        let got = try engine.run(x, outputs: requested)
                        let done = engine.concatsDoneInPlace.load(ordering: .relaxed) - before
                        for (name, t) in copied { #expect(got[name]!.data == t.data, "\(name) of \(requested), \(threads) threads, batch \(batch)") }
                        #expect(done == perImage * batch, "\(requested), \(threads) threads, batch \(batch): \(done) concats in place")
                        if pass == 0 { first.append(got) } else {
                            for (name, t) in first[n] { #expect(got[name]!.data == t.data, "\(name) of \(requested) from a kept plan") }
                        }
                    }
                }
                #expect(engine.planCount == plans && plans > 0, "the second pass made no plans: \(plans) → \(engine.planCount)")
            }
        }
    }

    /// Winograd F(2×2, 3×3) and F(4×4, 3×3) against im2col on the same kernel: odd map sizes (tiles
    /// half or three quarters outside), padding, a fused ReLU, one to three threads and batches
    /// that take every way of sharing (a small map with many filters shares the filters), and a
    /// small map's batch on one thread with its images' tiles side by side in one GEMM per ξ; and
    /// 3 × 3 layers with stride 2 by their phases.
    @Test func winogradMatchesIm2col() throws {
        var modes = Set<String>(), methods = Set<String>(), sideBySide = 0
        // (64 channels: Winograd's least. [64, 21, 70]: rows wide enough for the 16-tile AVX-512
        // transforms, twice per row; [64, 30, 70]: F(4×4)'s 18 tiles across, two groups. Maps of
        // 28 × 28 and more take F(4×4) where AVX-512 runs; [64, 28, 28] with 72 filters shares them.
        // Larger kernels as 3 × 3 pieces, F(4×4) only: 5 × 5 on AlexNet's 27 × 27 conv2 map and
        // on a 14 × 14 one with 16 channels, an even 4 × 4 on 19 × 18.)
        // Stride 2: 15 × 16 tiles' outputs from 29 × 31 (the last tiles half outside), 17 tiles
        // across (two groups of 16) from 70 wide, and a 14 × 14 map with more filters than tiles
        // (the threads share the filters).
        var cases = [([64, 31, 33], 18, 1, false, 3, 1), ([64, 31, 33], 18, 0, true, 3, 1), ([64, 9, 11], 64, 1, true, 3, 1),
                     ([64, 21, 70], 17, 1, true, 3, 1), ([64, 30, 70], 17, 1, true, 3, 1), ([64, 28, 28], 72, 1, false, 3, 1)]
        if cpuHasAVX512 && !WinogradKernel.onlySmallTiles {
            cases += [([64, 27, 27], 48, 2, true, 5, 1), ([16, 14, 14], 24, 2, false, 5, 1), ([24, 18, 17], 16, 2, true, 4, 1),
                      ([64, 29, 31], 40, 1, true, 3, 2), ([64, 30, 70], 32, 0, false, 3, 2), ([64, 28, 28], 96, 1, true, 3, 2)]
        }
        for (input, filters, padding, relu, size, stride) in cases {
            var b = NetworkBuilder("w", input: input)
            b.conv("c", filters: filters, kernel: size, stride: stride, padding: padding, rounding: .floor)
            let model = try Model.randomlyInitialised(b.build(), seed: 11)
            let inCount = input.reduce(1, *)
            for threads in [1, 2, 3] {
                let engine = try Engine(model: model, threads: threads)
                guard case .convolution(var fast, _, _) = engine.steps[0].operation, case .convolution(let c) = engine.steps[0].info.layer.kind
                else { Issue.record("no convolution"); return }
                let large = (fast.outHeight >= 28 && fast.outWidth >= 28) || size > 3
                #expect(fast.method == (stride == 2 ? "winograd-s2" : large && cpuHasAVX512 ? "winograd4" : "winograd"),
                        "\(input), \(size) × \(size), stride \(stride), padding \(padding)")
                #expect(fast.winograd?.depth == ((size + 2) / 3) * ((size + 2) / 3) * input[0])
                methods.insert(fast.method)
                #expect(fast.weights.isEmpty, "U replaces the filters")
                fast.relu = relu
                // The same layer unprepared: im2col with the model's filters.
                let p = model.parameters[engine.steps[0].info.name]!
                var plain = ConvolutionKernel(c, info: engine.steps[0].info, kernel: p["kernel"]!, bias: p["bias"])
                plain.relu = relu
                for batch in [1, 2, 3] {
                    modes.insert("\(fast.sharing(batch: batch, threads: threads))")
                    var rng = RandomSource(seed: UInt64(10 * threads + batch))
                    let x = (0..<(batch * inCount)).map { _ in Float(rng.normal()) }
                    let out = batch * filters * fast.outHeight * fast.outWidth
                    func run(_ k: ConvolutionKernel) -> [Float] {
                        // 64 floats past the output that nothing may write (the right and bottom
                        // edges' partial tiles are stored through masks).
                        let y = UnsafeMutablePointer<Float>.allocate(capacity: out + 64)
                        defer { y.deallocate() }
                        (y + out).initialize(repeating: 12345, count: 64)
                        let spaces = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: max(1, k.workspacePerThread(batch: batch, threads: threads))) }
                        defer { spaces.forEach { $0.deallocate() } }
                        // As the engine does: holding the BLAS lock, OpenBLAS on one thread.
                        Engine.exclusive(threads: 1) {
                            x.withUnsafeBufferPointer { k.run(batch: batch, threads: threads, $0.baseAddress!, y, workspaces: spaces) }
                        }
                        #expect(UnsafeBufferPointer(start: y + out, count: 64).allSatisfy { $0 == 12345 }, "\(k.method) wrote past its output")
                        return Array(UnsafeBufferPointer(start: y, count: out))
                    }
                    if let w = fast.winograd, threads == 1, w.imagesPerBand(batch: batch, threads: 1) > 1 { sideBySide += 1 }
                    let expected = run(plain), got = run(fast)
                    let scale = expected.map(abs).max()!
                    let worst = zip(expected, got).map { abs($0 - $1) }.max()!
                    #expect(worst <= 1e-5 * scale, "\(input), padding \(padding), \(threads) threads, batch \(batch): off by \(worst) of \(scale)")
                    if relu { #expect(got.allSatisfy { $0 >= 0 }) }
                }
            }
        }
        #expect(modes.isSuperset(of: ["single", "images", "rows", "filters"]), "modes exercised: \(modes)")
        #expect(methods.count == (cpuHasAVX512 && !WinogradKernel.onlySmallTiles ? 3 : cpuHasAVX512 ? 2 : 1), "methods exercised: \(methods)")
        // The 9 × 11 map's 30 tiles (and the 5 × 5 kernel's 16 on 14 × 14, the 4 × 4's 25):
        // batches of 2 and 3 with their images side by side.
        #expect(sideBySide == (cases.count > 6 ? 6 : 2), "batches run with images side by side: \(sideBySide)")
    }

    /// Residual adds fused into the convolution before them (its folded BN between): the shortcut
    /// added in the GEMM's epilogue, the add's ReLU applied there. The same numbers as with the
    /// adds run as steps of their own (requesting a convolution's output turns its fusion off),
    /// with the convolution on either side of the add, an identity and a projection shortcut. And
    /// the same bits with the fused adds written over their shortcuts: `add2`'s and `add3`'s, not
    /// `add1`'s, whose shortcut `late` still reads when `c` runs.
    @Test func fusedResidualAddsGiveTheUnfusedNumbers() throws {
        var b = NetworkBuilder("res", input: [16, 9, 9])
        b.conv("stem", filters: 24, kernel: 3, padding: 1)
        b.relu("stem_relu")
        b.conv("a", filters: 12, kernel: 1)
        b.batchNorm("a_bn")
        b.relu("a_relu")
        b.conv("c", filters: 24, kernel: 3, padding: 1)                   // 9×9, 12 channels: im2col
        b.batchNorm("c_bn")
        b.residualAdd("add1", ["stem_relu", "c_bn"])                        // shortcut first
        b.relu("out1")
        b.conv("d", filters: 40, kernel: 1, stride: 2, rounding: .floor)
        b.conv("proj", filters: 40, kernel: 1, stride: 2, rounding: .floor, inputs: ["out1"])
        b.batchNorm("proj_bn")
        b.residualAdd("add2", ["d", "proj_bn"])                             // two convolutions
        b.relu("out2")
        b.conv("late", filters: 40, kernel: 1, stride: 2, rounding: .floor, inputs: ["stem_relu"])
        b.residualAdd("add3", ["out2", "late"])
        var model = try Model.randomlyInitialised(b.build(), seed: 4)
        // Non-trivial BN statistics, so that folding matters.
        var parameters = model.parameters
        for name in ["a_bn", "c_bn", "proj_bn"] {
            for key in ["moving_mean", "moving_variance", "gamma", "beta"] {
                let t = parameters[name]![key]!
                parameters[name]![key] = Tensor(shape: t.shape, data: t.data.indices.map { key == "moving_variance" ? 0.5 + Float($0 % 5) / 4 : Float($0 % 7) / 7 - 0.4 })
            }
        }
        model = try Model(network: model.network, parameters: parameters)
        for threads in [1, 2] {
            let engine = try Engine(model: model, threads: threads)
            for batch in [1, 3] {
                var rng = RandomSource(seed: UInt64(batch))
                let x = Tensor(shape: [batch, 16, 9, 9], data: (0..<(batch * 16 * 81)).map { _ in Float(rng.normal()) })
                let unfused = try engine.run(x, outputs: ["c", "d", "proj", "out1", "out2", "add3"])
                engine.writesAddsInPlace = false
                let copied = try engine.run(x, outputs: ["out1", "out2", "add3"])
                engine.writesAddsInPlace = true
                let before = engine.addsDoneInPlace.load(ordering: .relaxed)
                let fused = try engine.run(x, outputs: ["out1", "out2", "add3"])
                #expect(engine.addsDoneInPlace.load(ordering: .relaxed) - before == (cpuHasAVX512 ? 2 * batch : 0))
                for (name, t) in copied {
                    let differing = zip(fused[name]!.data, t.data).filter { $0 != $1 }.count
                    #expect(differing == 0, "\(name) written over a shortcut, \(threads) threads, batch \(batch): \(differing) values differ")
                }
                let alone = try engine.run(x)["add3"]!
                #expect(zip(alone.data, fused["add3"]!.data).allSatisfy { $0 == $1 })
                for name in ["out1", "out2", "add3"] {
                    let e = unfused[name]!.data, g = fused[name]!.data
                    let worst = zip(e, g).map { abs($0 - $1) }.max()!
                    #expect(worst <= 1e-5 * e.map(abs).max()!, "\(name), \(threads) threads, batch \(batch): off by \(worst)")
                }
                #expect(zip(alone.data, unfused["add3"]!.data).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
                #expect(fused["out2"]!.data.allSatisfy { $0 >= 0 })
            }
        }
    }

    /// A network that starts with a chain of aliases of its input (flatten, dropout, identity at
    /// inference): y = W·x + b by hand, on one and on two threads.
    @Test func aliasesOfTheInput() throws {
        var b = NetworkBuilder("mlp", input: [2, 3, 3])
        b.flatten("flat")
        b.add("drop", .dropout(rate: 0.5))
        b.dense("fc", units: 4)
        let model = try Model.randomlyInitialised(b.build(), seed: 2)
        let w = model.parameters["fc"]!["kernel"]!.data, bias = model.parameters["fc"]!["bias"]!.data
        let x = (0..<18).map { Float($0) / 7 - 1 }
        let expected = (0..<4).map { u in (0..<18).reduce(bias[u]) { $0 + w[u * 18 + $1] * x[$1] } }
        for threads in [1, 2] {
            let out = try Engine(model: model, threads: threads).run(Tensor(shape: [1, 2, 3, 3], data: x), outputs: ["flat", "fc"])
            #expect(out["flat"]!.data == x)
            #expect(zip(out["fc"]!.data, expected).allSatisfy { abs($0 - $1) <= 1e-5 })
        }
    }
}
