import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials

struct ImageCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Make and list images without a registry.",
        subcommands: [BuildImage.self, ImportImage.self, BusyboxImageCommand.self, ListImages.self, RemoveImage.self])
}

struct BuildImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an image from a directory through the engine's build endpoint.")
    @OptionGroup var engineChoice: EngineChoice
    @Argument(help: "The build context directory.") var directory: String
    @Option(name: [.customShort("t"), .long], help: "The image reference, REPO[:TAG].") var tag: String
    @Option(name: [.customShort("f"), .long], help: "The Dockerfile, relative to the context.") var file = "Dockerfile"
    @Flag(name: .shortAndLong, help: "Print only the image ID.") var quiet = false

    func run() async throws {
        let quiet = self.quiet
        let id = try await engineChoice.client().buildImage(contextDirectory: directory, tag: tag, dockerfile: file) {
            line in
            if !quiet { StandardStream.output.write(line) }
        }
        print(quiet ? id : "built \(tag) \(id)")
    }
}

struct ImportImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a root filesystem (a directory or a tarball) as a tagged image.")
    @OptionGroup var engineChoice: EngineChoice
    @Argument(help: "A root filesystem directory or tar archive.") var source: String
    @Option(name: [.customShort("t"), .long], help: "The image reference, REPO[:TAG].") var tag: String
    @Option(
        name: [.customShort("c"), .long], help: "A Dockerfile instruction to apply, e.g. 'CMD [\"sh\"]' (repeatable).")
    var change: [String] = []

    func run() async throws {
        guard FileManager.default.fileExists(atPath: source) else {
            throw CommandLineFailure("\(source): no such file or directory")
        }
        let (repository, tagName) = ImageReference.split(tag)
        let engine = try engineChoice.client()
        let result: String
        if directoryExists(source) {
            // Archived while it is uploaded: the tree is never whole in memory.
            result = try await engine.importImage(
                directory: source, repository: repository, tag: tagName, changes: change)
        } else {
            guard let data = FileManager.default.contents(atPath: source) else {
                throw CommandLineFailure("cannot read \(source)")
            }
            result = try await engine.importImage(
                tarball: Array(data), repository: repository, tag: tagName, changes: change)
        }
        print("\(repository):\(tagName) \(result)")
    }
}

struct BusyboxImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "busybox", abstract: "Make a minimal offline image from the host's static busybox.")
    @OptionGroup var engineChoice: EngineChoice
    @Option(name: [.customShort("t"), .long], help: "The image reference.") var tag = "ccorc-busybox:latest"
    @Option(help: "The static busybox binary.") var binary = BusyboxImage.defaultBinary
    @Option(
        help: "Run as this non-root user (uid 1000), laid out like the agent image: HOME=/home/USER, VOLUME ~/.claude.")
    var user: String?
    @Flag(help: "Import again even if the image exists.") var force = false

    func run() async throws {
        let engine = try engineChoice.client()
        if !force, try await engine.imageExists(tag) {
            print("\(tag) exists")
            return
        }
        let result = try await BusyboxImage.importImage(into: engine, reference: tag, busybox: binary, user: user)
        print("\(tag) \(result)")
    }
}

struct ListImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List images.", aliases: ["ls"])
    @OptionGroup var engineChoice: EngineChoice
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let images = try await engineChoice.client().listImages()
        if json {
            printJSON(.array(images.map(\.jsonValue)))
            return
        }
        var table = TextTable(headers: ["REFERENCE", "ID", "SIZE"])
        for image in images {
            for reference in image.repoTags.isEmpty ? ["<none>"] : image.repoTags {
                table.append([
                    reference, String(image.id.dropFirst("sha256:".count).prefix(12)),
                    ResourceLimits.formatBytes(image.size),
                ])
            }
        }
        print(table.render())
    }
}

struct RemoveImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove images.")
    @OptionGroup var engineChoice: EngineChoice
    @Argument(help: "Image references.") var references: [String]
    @Flag(name: [.customShort("f"), .long], help: "Remove even if containers use it.") var force = false

    func run() async throws {
        let engine = try engineChoice.client()
        let force = self.force
        try reportBulk(await forEachConcurrently(references) { try await engine.removeImage($0, force: force) })
    }
}
