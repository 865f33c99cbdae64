// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The static, HTTP-only libcurl that `scripts/build-curl.sh` (run by `make setup`) builds. When it
/// is there it is linked in place of the system's libcurl.so, whose thirty-odd dependencies cost
/// every process milliseconds to load; without it the system library is used.
let bundledCurl: String? = {
    let archive = Context.packageDirectory + "/.build-curl/lib/libcurl.a"
    return FileManager.default.fileExists(atPath: archive) ? archive : nil
}()

let package = Package(
    name: "ccorc",
    products: [
        .library(name: "CCOrcKit", targets: ["CCOrcKit"]),
        // The C ABI: include/ccorc.h over this shared library, installed as libccorc.so.
        .library(name: "CCOrcC", type: .dynamic, targets: ["CCOrcC"]),
        .executable(name: "ccorc", targets: ["CcorcCLI"]),
        .executable(name: "ccdk", targets: ["CcdkCLI"]),
        .executable(name: "ccorc-bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // System libraries, declared the way swift-corelibs-foundation declares libcurl.
        // The headers always come from libcurl4-openssl-dev (the bundled build is the same version).
        .systemLibrary(
            name: "CCurl", path: "Sources/SystemLibraries/CCurl",
            pkgConfig: bundledCurl == nil ? "libcurl" : nil, providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CJansson", path: "Sources/SystemLibraries/CJansson",
            pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(
            name: "CSQLite", path: "Sources/SystemLibraries/CSQLite",
            pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // The only C code: thin, non-variadic, nullability-annotated wrappers over libcurl,
        // jansson and the few syscalls Swift cannot call directly.
        // Its debug information is DWARF 4, as the Swift units' is: clang's default, DWARF 5, is more
        // than the valgrind of Debian 12 (3.19) can read, and it then refuses the whole library.
        .target(
            name: "CShims", dependencies: ["CCurl", "CJansson", "CSQLite"], path: "CShims",
            cSettings: [.unsafeFlags(["-gdwarf-4"])],
            linkerSettings: bundledCurl.map {
                [.unsafeFlags(["-Xlinker", "--whole-archive", "-Xlinker", $0, "-Xlinker", "--no-whole-archive"])]
            }
                ?? [.linkedLibrary("curl")]),

        // The driver: engine client, cgroups, tmux control client, registry, sessions.
        .target(
            name: "CCOrcKit", dependencies: ["CShims"], path: "Sources/CCOrcKit"),

        // The C ABI: the public header as a module, and the exported functions written against it.
        .systemLibrary(name: "CCOrcHeader", path: "Sources/SystemLibraries/CCOrcHeader"),
        .target(
            name: "CCOrcC", dependencies: ["CCOrcKit", "CCOrcHeader"], path: "Sources/CCOrcC",
            exclude: ["ccorc.map"]),

        // What the two CLIs share: error reporting and output helpers over ArgumentParser.
        .target(
            name: "CLISupport",
            dependencies: [
                "CCOrcKit", "CCOrcHeader", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CLISupport"),
        .executableTarget(
            name: "CcdkCLI",
            dependencies: [
                "CCOrcKit", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CcdkCLI"),
        .executableTarget(
            name: "CcorcCLI",
            dependencies: [
                "CCOrcKit", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CcorcCLI"),
        .executableTarget(
            name: "Bench", dependencies: ["CCOrcKit", "EngineProxy"], path: "bench",
            // The C ABI's side of its benchmark, compiled by the Makefile against libccorc.
            exclude: ["c"]),

        .testTarget(name: "CCOrcKitTests", dependencies: ["CCOrcKit"], path: "Tests/CCOrcKitTests"),
        // The CLIs' own configuration, parsed in-process (no engine, tmux or registry).
        .testTarget(
            name: "CLITests",
            dependencies: [
                "CcorcCLI", "CcdkCLI", "CLISupport", "CCOrcC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/CLITests"),
        .testTarget(
            name: "IntegrationTests", dependencies: ["CCOrcKit", "EngineProxy"], path: "Tests/IntegrationTests"),
        // A Unix-socket HTTP proxy that records the requests between a client and the engine, for the
        // integration tests and the benchmarks alone (it uses Foundation; nothing shipped links it).
        .target(name: "EngineProxy", path: "Tests/Support/EngineProxy"),
    ]
)
