import Foundation
import Imaging

/// Reference data made by scripts/make-imaging-fixtures.py (Pillow and transformers' image processors).
enum Fixtures {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static var root: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
                throw Missing(description: "ImagingTests resources are not in the test bundle")
            }
            return url
        }
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: try root.appendingPathComponent(relative)))
    }

    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: try root.appendingPathComponent("manifest.json"))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Missing(description: "manifest.json is not an object")
        }
        return object
    }

    static func entries(_ key: String) throws -> [[String: Any]] {
        guard let list = try manifest()[key] as? [[String: Any]] else { throw Missing(description: "manifest has no \(key)") }
        return list
    }

    /// The reference RGB bytes of a decode case (raw `.rgb`, or a `.ref.png` for large images).
    static func referenceRGB(_ entry: [String: Any]) throws -> [UInt8] {
        let ref = entry["reference"] as? String ?? ""
        let data = try bytes(ref)
        return ref.hasSuffix(".png") ? try PNGDecoder.decode(data).pixels : data
    }
}
