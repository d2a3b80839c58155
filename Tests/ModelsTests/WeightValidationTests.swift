import Compute
import Foundation
import GGUF
import Testing
@testable import Models

/// `validateWeights` accepts the block-quantized GGUF formats the loaders handle and still rejects the rest.
@Suite(.serialized) struct WeightValidationTests {
    @Test("the shipped SmolLM2 Q4_1 GGUF (Q4_1 projections, Q8_0 embeddings, F32 norms) validates")
    func quantizedGGUFValidates() throws {
        let source = try GGUFWeightSourceTests.smolLM2()
        let types = Set(try source.names.map { try source.info(named: $0).dtype.description })
        #expect(types == ["Q4_1", "Q8_0", "F32"])
        try source.config.validateWeights(source)
    }

    @Test("every QuantizedMatrix type is a loadable block dtype; others and inconsistent blocks are not")
    func blockDTypes() {
        for type in GGMLType.allCases {
            let dtype = TensorDType.block(name: type.name, elementsPerBlock: type.blockSize, bytesPerBlock: type.typeSize)
            let loadable = ModelConfig.isLoadableBlock(dtype, shape: [3, type.blockSize * 2])
            let expected = QuantizedMatrix.supportedTypes.contains(type) && type.blockSize > 1
            #expect(loadable == expected, "\(type.name)")
        }
        // F16/F32 arrive as float dtypes, not blocks; Q8_K is an activation format; IQ types have no kernels.
        #expect(!ModelConfig.isLoadableBlock(.block(name: "q8_K", elementsPerBlock: 256, bytesPerBlock: 292), shape: [1, 256]))
        #expect(!ModelConfig.isLoadableBlock(.block(name: "iq2_xxs", elementsPerBlock: 256, bytesPerBlock: 66), shape: [1, 256]))
        // A known name with the wrong block geometry, or rows that are not whole blocks.
        #expect(!ModelConfig.isLoadableBlock(.block(name: GGMLType.q4_0.name, elementsPerBlock: 32, bytesPerBlock: 20), shape: [1, 64]))
        #expect(!ModelConfig.isLoadableBlock(.block(name: GGMLType.q4_0.name, elementsPerBlock: 32, bytesPerBlock: 18), shape: [1, 48]))
        #expect(!ModelConfig.isLoadableBlock(.f32, shape: [1, 32]))
    }
}
