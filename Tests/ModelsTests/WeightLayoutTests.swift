import Foundation
import JSON
import Testing
@testable import Models

/// `expectedWeights()` against the tensor names and shapes transformers' `save_pretrained` writes for
/// variants without a tiny fixture (weight_layouts.json, made by scripts/make_models_fixtures.py).
@Suite struct WeightLayoutTests {
    @Test func expectedWeightsMatchWhatTransformersSaves() throws {
        let cases = try Fixtures.json(try Fixtures.resource("weight_layouts.json")).arrayValue ?? []
        #expect(cases.count == 7)
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let config = try ModelConfig(json: try #require(c["config"]))
            var want: [String: [Int]] = [:]
            for (tensor, shape) in c["tensors"]?.objectValue ?? JSONObject() {
                want[tensor] = shape.arrayValue?.compactMap(\.intValue)
            }
            let specs = config.expectedWeights()
            var got: [String: [Int]] = [:]
            for s in specs { got[s.name] = s.shape }
            #expect(specs.count == got.count, Comment(rawValue: "\(name): duplicate names"))
            #expect(Set(got.keys) == Set(want.keys), Comment(rawValue:
                "\(name): missing \(Set(want.keys).subtracting(got.keys).sorted()), extra \(Set(got.keys).subtracting(want.keys).sorted())"))
            for (tensor, shape) in want {
                #expect(got[tensor] == shape, Comment(rawValue: "\(name) \(tensor)"))
            }
        }
    }
}
