import Foundation

/// Log-probabilities for SGLang's logprob lists (spec §7.9): the raw model distribution, i.e. log_softmax of the
/// logits BEFORE temperature, penalties and masks, as SGLang v0.3 reports. Call these on the raw row, before
/// `RequestSampler.sample` (which rewrites the row in place).
public enum Logprobs {
    /// log-sum-exp of a row, in Double (compute it once per row and pass it to `top` / `logprob`).
    /// NaN entries are ignored; a row with no value above -inf gives -inf.
    public static func logNormalizer(_ row: UnsafeBufferPointer<Float>) -> Double {
        var m = -Float.infinity
        for v in row where v > m { m = v }
        guard m.isFinite else { return Double(m) }
        let md = Double(m)
        var sum = 0.0
        for v in row where v > -.infinity { sum += exp(Double(v) - md) }
        return md + log(sum)
    }

    /// The log-probability of `id` under the row's distribution (-inf for an id outside the row or a NaN logit).
    public static func logprob(of id: Int, in row: UnsafeBufferPointer<Float>, logNormalizer: Double) -> Double {
        guard id >= 0, id < row.count, !row[id].isNaN else { return -.infinity }
        return Double(row[id]) - logNormalizer
    }

    /// (id, logprob) of the `k` most likely ids, descending, ties by lower id (NaN entries are skipped).
    public static func top(_ row: UnsafeBufferPointer<Float>, k: Int,
                           logNormalizer: Double) -> [(id: Int, logprob: Double)] {
        TopSelection.indices(row, k: k, includeNegativeInfinity: true).map {
            (id: $0, logprob: Double(row[$0]) - logNormalizer)
        }
    }
}

/// Partial selection of the largest entries of a row without sorting the whole row.
enum TopSelection {
    /// The ids of the `k` largest values, descending, ties by lower id. NaN entries never appear; -inf entries
    /// only when `includeNegativeInfinity` (then after every finite one).
    static func indices(_ row: UnsafeBufferPointer<Float>, k: Int, includeNegativeInfinity: Bool) -> [Int] {
        let n = row.count
        guard k > 0, n > 0 else { return [] }
        let before: (Int, Int) -> Bool = { a, b in row[a] > row[b] || (row[a] == row[b] && a < b) }
        if k * 4 >= n {
            var all: [Int] = []
            all.reserveCapacity(n)
            for i in 0..<n where row[i] > -.infinity || (includeNegativeInfinity && row[i] == -.infinity) {
                all.append(i)
            }
            all.sort(by: before)
            if all.count > k { all.removeLast(all.count - k) }
            return all
        }
        // A binary min-heap (under `before`) of the best k so far: its root is the worst kept entry, and since
        // ids arrive in increasing order a later id beats the root only with a strictly larger value.
        var heap: [Int] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1
                guard l < heap.count else { return }
                var worst = l
                if l + 1 < heap.count, before(heap[worst], heap[l + 1]) { worst = l + 1 }
                guard before(heap[i], heap[worst]) else { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        var i = 0
        while i < n, heap.count < k {
            let v = row[i]
            if v > -.infinity || (includeNegativeInfinity && v == -.infinity) {
                heap.append(i)
                var c = heap.count - 1
                while c > 0 {
                    let p = (c - 1) / 2
                    guard before(heap[p], heap[c]) else { break }
                    heap.swapAt(p, c)
                    c = p
                }
            }
            i += 1
        }
        if heap.count == k {
            var rootValue = row[heap[0]]
            while i < n {
                if row[i] > rootValue {
                    heap[0] = i
                    siftDown(0)
                    rootValue = row[heap[0]]
                }
                i += 1
            }
        }
        heap.sort(by: before)
        return heap
    }
}
