// swift-tools-version:6.0
import PackageDescription

// A program that drives team sessions through the CCOrcKit library, without spawning `ccorc`.
let package = Package(
    name: "TeamSession",
    dependencies: [
        .package(name: "ccorc", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "TeamSession",
            dependencies: [.product(name: "CCOrcKit", package: "ccorc")],
            path: "Sources/TeamSession")
    ]
)
