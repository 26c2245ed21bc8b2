// swift-tools-version: 6.0
import PackageDescription

// One way through: definition → graph → shapes/params → weights → execution → outputs.
// Dependencies point one way (see docs/architecture.md): ZooCore knows nothing of C libraries.
let package = Package(
    name: "Zoo",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Zoo", targets: ["ZooCore", "ZooHDF5", "ZooWeights", "ZooEngine", "ZooImages", "ZooTransfer"]),
        .executable(name: "zoo", targets: ["zoo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),

        // Zoo's own AVX-512 GEMM for convolutions (C: function-level target attributes and a
        // run-time check, so the binary still runs on CPUs without AVX-512).
        .target(name: "CZooGEMM"),

        // Embeds Zoo/*.yaml into ZooCore so that a copied binary still finds `vgg16`.
        .executableTarget(name: "ZooEmbedTool"),
        .plugin(name: "EmbedZooDefinitions", capability: .buildTool(), dependencies: ["ZooEmbedTool"]),

        .target(
            name: "ZooCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            plugins: ["EmbedZooDefinitions"]
        ),
        .target(name: "ZooHDF5", dependencies: ["CHDF5"]),
        .target(name: "ZooWeights", dependencies: ["ZooCore", "ZooHDF5"]),
        .target(name: "ZooEngine", dependencies: ["ZooCore", "CBLAS", "CZooGEMM"]),
        .target(name: "ZooImages", dependencies: ["ZooCore", "CPNG", "CTurboJPEG"]),
        .target(name: "ZooTransfer", dependencies: ["ZooCore", "ZooHDF5", "ZooWeights", "ZooEngine", "ZooImages"]),
        .executableTarget(
            name: "zoo",
            dependencies: [
                "ZooCore", "ZooHDF5", "ZooWeights", "ZooEngine", "ZooImages", "ZooTransfer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "ZooCoreTests", dependencies: ["ZooCore"]),
        .testTarget(name: "ZooHDF5Tests", dependencies: ["ZooHDF5"]),
        .testTarget(name: "ZooWeightsTests", dependencies: ["ZooWeights", "ZooCore", "ZooHDF5", "ZooEngine"]),
        .testTarget(name: "ZooEngineTests", dependencies: ["ZooEngine", "ZooCore"]),
        .testTarget(name: "ZooImagesTests", dependencies: ["ZooImages", "ZooCore"]),
        .testTarget(name: "ZooTransferTests", dependencies: ["ZooTransfer", "ZooCore", "ZooHDF5", "ZooWeights", "ZooEngine", "ZooImages"]),
    ]
)
