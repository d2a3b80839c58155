import Testing

@testable import CUDA

/// The launch-shape rules that need no GPU: the skinny GEMM's warps per column and the tensor-core decode
/// kernel's split count, checked against the rules they state, computed here from the grid arithmetic.
@Suite struct LaunchShapeTests {
    /// Fill of a grid's waves: blocks / resident for less than one wave, else the mean fill of its waves.
    static func fill(_ blocks: Int, _ resident: Int) -> Double {
        let full = blocks / resident, rest = blocks % resident
        if full == 0 { return Double(blocks) / Double(resident) }
        return Double(blocks) / Double((full + (rest > 0 ? 1 : 0)) * resident)
    }

    @Test func gemvSplitTakesTheFewestWarpsThatFillTheLastWaveClearlyBest() {
        for sms in [66, 114, 132] {
            for (n, k) in [(6144, 4096), (4096, 4096), (4096, 14336), (28672, 4096), (128256, 4096), (576, 576),
                           (1000, 2048), (2560, 3584), (4608, 3584)] {
                let split = CUDAKernels.gemvSplit(n: n, k: k, multiprocessors: sms)
                let allowed = [1, 2, 4].filter { $0 == 1 || k / $0 >= 1024 }
                #expect(allowed.contains(split))
                // Scanning upward, a split replaces the current choice only when it fills better by more than 0.05.
                var expected = 1, bestFill = 0.0
                for s in allowed where Self.fill((n * s + 7) / 8, 4 * sms) > bestFill + 0.05 {
                    expected = s
                    bestFill = Self.fill((n * s + 7) / 8, 4 * sms)
                }
                #expect(split == expected, "n \(n) k \(k) on \(sms) SMs: \(split), expected \(expected)")
            }
        }
        // Llama-8B's QKV on an H100 (132 SMs): one warp per column is 768 blocks on 528 slots, 1.45 waves.
        #expect(CUDAKernels.gemvSplit(n: 6144, k: 4096, multiprocessors: 132) > 1)
    }

    @Test func argmaxChunksCoverEveryRowInAboutEightBlocksPerMultiprocessor() {
        for sms in [66, 132] {
            for rows in [1, 3, 8, 64, 256, 1000] {
                for vocab in [1, 1000, 32000, 50257, 128256, 151936] {
                    let chunk = CUDAKernels.argmaxChunk(rows: rows, vocab: vocab, multiprocessors: sms)
                    #expect(chunk >= 1024 && chunk % 1024 == 0)
                    let blocks = (vocab + chunk - 1) / chunk
                    // The blocks cover the row, none starts past its end.
                    #expect(blocks * chunk >= vocab && (blocks - 1) * chunk < vocab)
                    // One block fewer would need a chunk past the smallest that keeps ≤ 8 blocks a multiprocessor.
                    if chunk > 1024 { #expect(rows * (vocab + chunk - 1025) / (chunk - 1024) > 8 * sms) }
                }
            }
        }
        // Greedy decode at batch 1 on an H100: a 128k vocabulary in 126 blocks of 1024 logits.
        #expect(CUDAKernels.argmaxChunk(rows: 1, vocab: 128_256, multiprocessors: 132) == 1024)
    }

    @Test func sampledRowsSplitIntoResidentSlicesThatCoverTheRow() {
        for sms in [66, 132] {
            for rows in [1, 2, 3, 8, 64, 67, 200] {
                for vocab in [1, 1000, 3001, 32000, 50257, 128256, 151936, 256000] {
                    let wanted = CUDAKernels.sampleSlices(rows: rows, vocab: vocab, multiprocessors: sms)
                    #expect(wanted >= 1 && wanted <= 32)
                    let (slice, blocks) = CUDAKernels.sampleLayout(vocab: vocab, slices: wanted)
                    // Every block of a split row is resident at once (one per multiprocessor).
                    #expect(blocks == 1 || blocks * rows <= sms)
                    #expect(blocks <= wanted)
                    // The slices cover the row, none is empty, split ones take whole groups of four tokens.
                    #expect(blocks * slice >= vocab && (blocks - 1) * slice < vocab)
                    if blocks > 1 { #expect(slice % 4 == 0 && slice >= 2048) }
                }
            }
        }
        // Batch 1 on an H100 with Llama 3's vocabulary: 32 blocks of 4008 tokens; batch 64: two blocks a row.
        #expect(CUDAKernels.sampleSlices(rows: 1, vocab: 128_256, multiprocessors: 132) == 32)
        #expect(CUDAKernels.sampleLayout(vocab: 128_256, slices: 32) == (4008, 32))
        #expect(CUDAKernels.sampleSlices(rows: 64, vocab: 128_256, multiprocessors: 132) == 2)
        #expect(CUDAKernels.sampleSlices(rows: 200, vocab: 128_256, multiprocessors: 132) == 1)
    }

    @Test func tensorCoreSplitsFillTheLastWaveOrTakeEveryTile() {
        for resident in [396, 342, 792] {
            for blocksPerSplit in [8, 16, 28, 64, 256, 512, 1024, 4096] {
                for maxSequence in [1, 63, 65, 1010, 4000, 32768] {
                    let splits = CUDAKernels.tensorCoreSplits(
                        blocksPerSplit: blocksPerSplit, maxSequence: maxSequence, resident: resident)
                    let most = max(1, min(64, (maxSequence + 63) / 64))
                    #expect(splits >= 1 && splits <= most)
                    let fills = (1...most).map { Self.fill(blocksPerSplit * $0, resident) }
                    if let first = fills.firstIndex(where: { $0 >= 0.85 }) {
                        #expect(splits == first + 1, "\(blocksPerSplit) blocks, \(maxSequence) positions")
                    } else {
                        #expect(fills[splits - 1] == fills.max(), "\(blocksPerSplit) blocks, \(maxSequence) positions")
                    }
                }
            }
        }
        // Batch 64 of Llama-8B (8 KV heads, 4 query heads each) at 3 blocks per SM on 132 SMs: 2 splits.
        #expect(CUDAKernels.tensorCoreSplits(blocksPerSplit: 64 * 8, maxSequence: 1010, resident: 396) == 2)
    }
}
