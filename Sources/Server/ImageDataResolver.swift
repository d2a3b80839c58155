import Bench
import Foundation
import JSON
import Runtime

/// `image_data` on the server side (spec §9.2): parsing the field, and fetching http(s) URLs (3 s timeout,
/// SGLang's `REQUEST_TIMEOUT`) so the engine only ever sees bytes, data URIs, base64 or paths.
enum ImageDataResolver {
    /// Seconds an image URL may take.
    static let fetchTimeout: Double = 3

    /// One string of `image_data`: an http(s) URL, a `data:` URI, raw base64 or a path.
    static func item(_ s: String) -> ImageData { .source(s) }

    /// The images of each of `count` prompts: a string or a list of strings for one prompt; for a batch, a list
    /// with one entry (string, list of strings, or null) per prompt, or one string for every prompt.
    /// - Throws: `ServerError` (400) naming the field when the shape is wrong.
    static func parse(_ value: JSONValue?, count: Int, batched: Bool) throws -> [[ImageData]] {
        guard let value, !value.isNull else { return Array(repeating: [], count: count) }
        func strings(_ v: JSONValue) throws -> [ImageData] {
            if v.isNull { return [] }
            if let s = v.stringValue { return [item(s)] }
            if let list = v.arrayValue {
                return try list.map { e in
                    guard let s = e.stringValue else {
                        throw ServerError.badRequest("image_data entries must be strings, found \(e.typeName)", param: "image_data")
                    }
                    return item(s)
                }
            }
            throw ServerError.badRequest("image_data must be a string or a list of strings, found \(v.typeName)",
                                         param: "image_data")
        }
        if let s = value.stringValue { return Array(repeating: [item(s)], count: count) }
        guard batched else { return [try strings(value)] }
        guard let list = value.arrayValue else {
            throw ServerError.badRequest("image_data must be a string or a list per prompt, found \(value.typeName)",
                                         param: "image_data")
        }
        guard list.count == count else {
            throw ServerError.badRequest("image_data has \(list.count) entries for \(count) prompts", param: "image_data")
        }
        return try list.map(strings)
    }

    /// Replaces every http(s) URL among `images` by the fetched bytes.
    /// - Throws: `ServerError` (400) naming the URL when it cannot be fetched in time or answers non-200.
    static func resolve(_ images: [ImageData]) async throws -> [ImageData] {
        var out: [ImageData] = []
        for image in images {
            guard case .source(let s) = image, s.hasPrefix("http://") || s.hasPrefix("https://") else {
                out.append(image)
                continue
            }
            out.append(.bytes(try await fetch(s)))
        }
        return out
    }

    /// Resolves the images of every item in place.
    static func resolve(_ items: inout [PromptItem]) async throws {
        for i in items.indices where !items[i].request.imageData.isEmpty {
            items[i].request.imageData = try await resolve(items[i].request.imageData)
        }
    }

    static func fetch(_ url: String) async throws -> [UInt8] {
        let target: BenchURL
        do {
            target = try BenchURL(parsing: url)
        } catch {
            throw ServerError.badRequest("image_data: invalid image URL \(url): \(error)", param: "image_data")
        }
        let client = BenchHTTPClient()
        let result: (status: Int, body: [UInt8])
        do {
            result = try await withThrowingTaskGroup(of: (status: Int, body: [UInt8])?.self) { group in
                group.addTask { try await client.fetch(method: .GET, url: target) }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(fetchTimeout * 1e9))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let answer = first else {
                    throw ServerError.badRequest("image_data: fetching \(url) took longer than \(Int(fetchTimeout)) s",
                                                 param: "image_data")
                }
                return answer
            }
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError.badRequest("image_data: cannot fetch \(url): \(error)", param: "image_data")
        }
        guard result.status == 200 else {
            throw ServerError.badRequest("image_data: \(url) answered HTTP \(result.status)", param: "image_data")
        }
        return result.body
    }
}

extension ImageDataResolver {
    /// Runs `work` on a thread of its own when `hasImages` (decoding, resizing and reading image files may take a
    /// while and must not hold a thread of the cooperative pool), inline otherwise.
    static func preparing<T: Sendable>(hasImages: Bool, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard hasImages else { return try work() }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let thread = Thread { c.resume(with: Result { try work() }) }
            thread.name = "sglang-image-prepare"
            thread.start()
        }
    }
}
