import Foundation
import Testing
@testable import Models

/// Random damage to a valid file must end in either a successful open (whose tensors then read within
/// bounds) or a `ModelError`; never a crash. Deterministic: a fixed-seed generator picks the damage.
@Suite struct SafetensorsMutationTests {
    /// SplitMix64, so the same mutations run everywhere.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func damagedFilesOpenOrThrowModelErrors() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.resource("dtypes/mixed.safetensors"))))
        let headerEnd = 8 + Int(original[0]) + Int(original[1]) << 8
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("models-mutation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(state: 42)
        var opened = 0, rejected = 0
        for round in 0..<300 {
            var bytes = original
            switch round % 3 {
            case 0:  // flip bytes in the length or the header, where parsing decisions are made
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let at = Int.random(in: 0..<headerEnd, using: &rng)
                    bytes[at] = UInt8.random(in: 0...255, using: &rng)
                }
            case 1:  // truncate anywhere
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            default:  // swap a digit in the header for another digit (offsets, shapes stay numeric)
                let digits = (8..<headerEnd).filter { (48...57).contains(bytes[$0]) }
                if let at = digits.randomElement(using: &rng) { bytes[at] = UInt8.random(in: 48...57, using: &rng) }
            }
            let url = dir.appendingPathComponent("m\(round).safetensors")
            try Data(bytes).write(to: url)
            do {
                let file = try SafetensorsFile(path: url.path)
                for name in file.names {
                    let t = try file.tensor(named: name)
                    #expect(t.bytes.count == t.dtype.byteCount(elements: t.elementCount))
                    if t.dtype.isConvertibleToFloat { #expect(try t.floats().count == t.elementCount) }
                }
                opened += 1
            } catch is ModelError {
                rejected += 1
            }
        }
        #expect(opened + rejected == 300)
        #expect(rejected > 100)  // most damage must be detected
    }
}
