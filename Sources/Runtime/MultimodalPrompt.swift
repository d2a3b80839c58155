/// One image of a prepared request: its preprocessed pixels and where its embedding rows go in the prompt.
struct RequestImage: Sendable {
    /// `channels × side × side` values for the vision tower.
    let pixelValues: [Float]
    /// Hash of the pixel values (the pad ids derive from it).
    let hash: UInt64
    /// First prompt position of the image's rows (in the padded ids).
    let offset: Int
    /// Rows the image takes (the model's image feature length).
    let length: Int
    /// The projected features (`length × hidden`), computed by the scheduler when a forward first needs them.
    var features: [Float]?

    /// Prompt positions the image covers.
    var positions: Range<Int> { offset..<(offset + length) }
}

/// The multimodal part of a prepared request (spec §9.2): the images and the prompt before padding.
struct MultimodalPrompt: Sendable {
    /// The images, in prompt order.
    var images: [RequestImage]
    /// The tokenized prompt with one image token per image (detokenization and penalties read these ids).
    var originIds: [Int]
    /// The prompt with each image token replaced by the image's pad ids (what the model and the cache see).
    var paddedIds: [Int]

    /// FNV-1a over the bit patterns of the pixel values: equal pixels, equal hash.
    static func hash(_ values: [Float]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in values {
            var bits = v.bitPattern
            for _ in 0..<4 {
                h ^= UInt64(bits & 0xff)
                h &*= 0x0000_0100_0000_01b3
                bits >>= 8
            }
        }
        return h
    }

    /// SGLang's pad pattern: four pseudo-token ids from the image hash, so the radix cache tells different
    /// images with the same text apart (spec §9.2; the fourth takes bits 48+ of our 64-bit hash).
    static func padValues(hash: UInt64, vocabSize: Int) -> [Int] {
        let v = UInt64(max(vocabSize, 1))
        return [hash % v, (hash >> 16) % v, (hash >> 32) % v, (hash >> 48) % v].map { Int($0) }
    }

    /// Replaces each `imageToken` of `ids` with its image's pad pattern repeated `featureLength` times; returns
    /// the padded ids and each image's offset.
    /// - Throws: `RuntimeError.invalidInput` when the number of image tokens differs from the number of images.
    static func pad(_ ids: [Int], imageToken: Int, hashes: [UInt64], featureLength: Int,
                    vocabSize: Int) throws -> (ids: [Int], offsets: [Int]) {
        let found = ids.lazy.filter { $0 == imageToken }.count
        guard found == hashes.count else {
            throw RuntimeError.invalidInput(
                "the prompt has \(found) image token(s) (id \(imageToken)) but \(hashes.count) image(s) were given")
        }
        var out: [Int] = []
        out.reserveCapacity(ids.count + hashes.count * (featureLength - 1))
        var offsets: [Int] = []
        var next = 0
        for id in ids {
            guard id == imageToken else {
                out.append(id)
                continue
            }
            let pad = padValues(hash: hashes[next], vocabSize: vocabSize)
            offsets.append(out.count)
            for i in 0..<featureLength { out.append(pad[i % pad.count]) }
            next += 1
        }
        return (out, offsets)
    }
}
