import Foundation
import JSON
import Testing
@testable import Models

/// Inverse frequencies against transformers' own RoPE functions (rope_cases.json, made with torch).
@Suite struct RopeTests {
    @Test func inverseFrequenciesMatchTransformersForEveryScalingType() throws {
        let cases = try Fixtures.json(try Fixtures.resource("rope_cases.json")).arrayValue ?? []
        #expect(cases.count >= 25)
        var seenTypes = Set<String>()
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let config = try ModelConfig(json: try #require(c["config"]))
            let expected = (c["inv_freq"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) }
            #expect(config.rope.ropeType == c["rope_type"]?.stringValue, Comment(rawValue: name))
            seenTypes.insert(config.rope.ropeType)
            let f = config.rope.frequencies(sequenceLength: c["seq_len"]?.intValue)
            #expect(f.inverseFrequencies.count == expected.count, Comment(rawValue: name))
            for (i, (got, want)) in zip(f.inverseFrequencies, expected).enumerated() {
                // float32 pow may differ from torch's vectorized pow by an ulp; allow 2.
                let tolerance = 2 * want.ulp
                #expect(abs(got - want) <= tolerance, Comment(rawValue: "\(name) [\(i)]: \(got) vs \(want)"))
            }
            let attention = try #require(c["attention_factor"]?.doubleValue)
            #expect(abs(f.attentionFactor - attention) <= 1e-12 * attention, Comment(rawValue: name))
        }
        #expect(seenTypes == ["default", "linear", "dynamic", "llama3", "yarn", "longrope"])
    }

    @Test func llama3KeepsHighFrequenciesAndDividesLowOnes() throws {
        let c = try ModelConfig.load(from: try Fixtures.shared("configs/llama-3.1-8b"))
        let plain = RopeConfig.baseInverseFrequencies(theta: 500_000, dim: 128)
        let scaled = c.rope.frequencies().inverseFrequencies
        #expect(scaled[0] == plain[0])  // wavelength 2π < 8192/4: untouched
        #expect(scaled[63] == plain[63] / 8)  // wavelength > 8192: divided by the factor
    }
}
