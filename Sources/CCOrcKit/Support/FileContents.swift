import Foundation

/// A file that could not be read, with the system's reason.
public struct FileReadError: Error, CustomStringConvertible, Sendable {
    /// `cannot read PATH: REASON`.
    public var description: String
}

/// The bytes of the file at `path`.
/// - Throws: `FileReadError` naming the path and the reason (`No such file or directory`, ...).
public func readFileBytes(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        // `contents(atPath:)` keeps no reason; `access` gives one reliably.
        let reason = access(path, R_OK) == 0 ? "it cannot be read as a whole file" : String(cString: strerror(errno))
        throw FileReadError(description: "cannot read \(path): \(reason)")
    }
    return [UInt8](data)
}
