/// Runs `body` for each item with at most `width` in flight and returns each item's error (nil on
/// success), in the order of `items`. Bulk operations use it to fan out over the engine client's
/// concurrent requests.
public func forEachConcurrently<Item: Sendable>(
    _ items: [Item], width: Int = 16, _ body: @escaping @Sendable (Item) async throws -> Void
) async -> [(item: Item, error: Error?)] {
    await withTaskGroup(of: (Int, Error?).self) { group in
        var results: [(item: Item, error: Error?)] = items.map { ($0, nil) }
        var next = 0
        func launch() {
            let index = next
            let item = items[index]
            group.addTask {
                do {
                    try await body(item)
                    return (index, nil)
                } catch {
                    return (index, error)
                }
            }
            next += 1
        }
        while next < items.count && next < max(1, width) { launch() }
        for await (index, error) in group {
            results[index].error = error
            if next < items.count { launch() }
        }
        return results
    }
}
