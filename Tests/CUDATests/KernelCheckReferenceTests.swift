import Foundation
import Testing

@testable import CUDA

/// The Swift references and comparison rules `sglang cuda-check` judges the GPU kernels by.
@Suite struct KernelCheckReferenceTests {
    @Test func unwrittenOutputFailsTheComparison() {
        let reference: [Float] = [1, -2, 3, 4]
        let exact = CUDAKernelCheck.compare("k", reference, reference, tolerance: 0)
        #expect(exact.passed && exact.relError == 0 && exact.maxAbsError == 0)
        let poisoned = CUDAKernelCheck.compare("k", [1, .nan, 3, 4], reference, tolerance: 1)
        #expect(!poisoned.passed)
        let off = CUDAKernelCheck.compare("k", [1, -2, 3, 4.5], reference, tolerance: 1e-3)
        #expect(!off.passed)
        #expect(off.maxAbsError == 0.5)
        #expect(abs(off.relError - 0.5 / (30.0).squareRoot()) < 1e-12)
        // -inf where the reference has -inf (masked logits) is a match, not a failure.
        #expect(CUDAKernelCheck.compare("k", [-.infinity, 1], [-.infinity, 1], tolerance: 0).passed)
        #expect(!CUDAKernelCheck.compare("k", [0, 1], [-.infinity, 1], tolerance: 0).passed)
    }

    @Test func referenceDistributionFollowsSGLangsFilters() {
        let logits: [Float] = [2.0, 1.0, 0.5, 3.0, -1.0, 0.0]
        let probabilities = softmax(logits)
        // No filter: the softmax itself.
        let plain = CUDAKernelCheck.referenceDistribution(logits, temperature: 1, topK: 0, topP: 1, minP: 0)
        for (a, b) in zip(plain, probabilities) { #expect(abs(a - b) < 1e-12) }
        // top_k = 1 is greedy.
        let greedy = CUDAKernelCheck.referenceDistribution(logits, temperature: 1, topK: 1, topP: 1, minP: 0)
        #expect(greedy == [0, 0, 0, 1, 0, 0])
        // top_k = 2 keeps the two largest, renormalized.
        let two = CUDAKernelCheck.referenceDistribution(logits, temperature: 1, topK: 2, topP: 1, minP: 0)
        let mass = probabilities[3] + probabilities[0]
        #expect(abs(two[3] - probabilities[3] / mass) < 1e-12 && abs(two[0] - probabilities[0] / mass) < 1e-12)
        #expect(two[1] == 0 && two[2] == 0 && two[4] == 0 && two[5] == 0)
        // top_p keeps a token while the mass strictly before it is at most p.
        let p = probabilities[3] + 1e-9
        let nucleus = CUDAKernelCheck.referenceDistribution(logits, temperature: 1, topK: 0, topP: p, minP: 0)
        #expect(nucleus[3] > 0 && nucleus[0] > 0 && nucleus[1] == 0)
        // min_p drops tokens below min_p × the largest probability.
        let minP = CUDAKernelCheck.referenceDistribution(logits, temperature: 1, topK: 0, topP: 1, minP: 0.3)
        for i in logits.indices { #expect((minP[i] > 0) == (probabilities[i] >= 0.3 * probabilities[3])) }
        #expect(abs(minP.reduce(0, +) - 1) < 1e-12)
    }

    @Test func argmaxTakesTheLowestIndexOfTiesAndSkipsNaN() {
        #expect(CUDAKernelCheck.argmax([1, 5, 5, 2][...]) == 1)
        #expect(CUDAKernelCheck.argmax([.nan, -1, .nan][...]) == 1)
        #expect(CUDAKernelCheck.argmax([-.infinity, -.infinity][...]) == 0)
    }

    private func softmax(_ x: [Float]) -> [Double] {
        let m = Double(x.max() ?? 0)
        let e = x.map { exp(Double($0) - m) }
        let z = e.reduce(0, +)
        return e.map { $0 / z }
    }
}
