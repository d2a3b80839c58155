import Foundation
@testable import Models
import Testing

/// The stacked mixture-of-experts names the device model loads by: every tensor of a sparse layer's feed-forward
/// block in the real checkpoints is named exactly once, with the shape the stack expects.
@Suite struct MoEWeightNamesTests {
    @Test(arguments: ["mixtral", "qwen2_moe", "qwen3_moe"])
    func namesCoverEveryExpertTensor(_ name: String) throws {
        let folder = try Fixtures.shared("tiny/\(name)")
        let config = try ModelConfig.load(from: folder)
        let weights = try SafetensorsModel(folder: folder)
        let moe = try #require(config.moe)
        for layer in 0..<config.numHiddenLayers {
            let names = config.moeWeightNames(layer)
            #expect((names == nil) == config.isDenseFeedForward(layer))
            guard let names else { continue }
            let stacks = [names.router, names.expertGateUp, names.expertDown] + [names.sharedGateUp, names.sharedDown]
                .compactMap { $0 }
            var listed: [String] = []
            for stack in stacks {
                #expect(stack.parts.count == stack.rows.count)
                for (part, rows) in zip(stack.parts, stack.rows) {
                    #expect(try weights.info(named: part).shape == [rows, stack.cols], "\(part)")
                    listed.append(part)
                }
            }
            #expect(Set(listed).count == listed.count)
            // What the checkpoint has under the block's prefix is exactly what the names list.
            let prefix = "model.layers.\(layer)." + (config.family == .mixtral ? "block_sparse_moe." : "mlp.")
            #expect(Set(weights.names.filter { $0.hasPrefix(prefix) }) == Set(listed))
            #expect(names.router.totalRows == moe.numExperts + (moe.sharedExpertIntermediateSize == nil ? 0 : 1))
            #expect(names.expertGateUp.totalRows == 2 * moe.numExperts * moe.expertIntermediateSize)
            #expect(names.expertDown.totalRows == moe.numExperts * config.hiddenSize)
            #expect(names.expertDown.cols == moe.expertIntermediateSize)
        }
    }

    @Test func denseModelsHaveNoExpertNames() throws {
        let config = try ModelConfig.load(from: try Fixtures.shared("tiny/llama"))
        #expect((0..<config.numHiddenLayers).allSatisfy { config.moeWeightNames($0) == nil })
    }
}
