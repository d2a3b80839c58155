#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A hash table from byte strings to runs of token ids, with keys and values stored in flat arenas so that
/// lookups never allocate. Used for the BPE word cache and the byte-keyed vocabulary of the fast path.
struct ByteSequenceTable: Sendable {
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    private var keyStarts: [Int32] = []
    private var keyLengths: [Int32] = []
    private var valueStarts: [Int32] = []
    private var valueLengths: [Int32] = []
    private var keyArena: [UInt8] = []
    private var valueArena: [Int32] = []
    private var mask: Int
    /// Past this many entries the table is cleared rather than grown (a cache bound, like HF's).
    let maxEntries: Int

    var count: Int { hashes.count }

    init(initialCapacity: Int = 1024, maxEntries: Int = Int.max) {
        var size = 16
        while size < initialCapacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        self.maxEntries = maxEntries
    }

    /// A fast 64-bit hash of a byte string (8-byte words, multiply-xorshift mixing).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(key.count)
        guard let base = key.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        let n = key.count
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                w |= UInt64(base[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
        }
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }

    /// The entry index of `key`, or -1 when absent.
    @inline(__always)
    func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { return -1 }
            if hashes[e] == h && Int(keyLengths[e]) == key.count {
                let start = Int(keyStarts[e])
                let equal = keyArena.withUnsafeBufferPointer { arena -> Bool in
                    guard let a = arena.baseAddress, let k = key.baseAddress else { return key.isEmpty }
                    return memcmp(a + start, k, key.count) == 0
                }
                if equal { return e }
            }
            i = (i + 1) & mask
        }
    }

    /// Appends the ids stored in entry `e` (from `find`) to `ids`.
    @inline(__always)
    func appendValues(of e: Int, to ids: inout [Int]) {
        let start = Int(valueStarts[e])
        let end = start + Int(valueLengths[e])
        valueArena.withUnsafeBufferPointer { values in
            for i in start..<end { ids.append(Int(values[i])) }
        }
    }

    /// The single id stored for `key`, if any (vocabulary lookups).
    @inline(__always)
    func singleValue(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let e = find(key, hash: ByteSequenceTable.hash(key))
        guard e >= 0, valueLengths[e] > 0 else { return nil }
        return valueArena[Int(valueStarts[e])]
    }

    /// Stores `values` for `key` (the caller checked it is absent).
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64, values: UnsafeBufferPointer<Int32>) {
        if hashes.count >= maxEntries { removeAll() }
        if (hashes.count + 1) * 2 > slots.count { grow() }
        let e = Int32(hashes.count)
        hashes.append(h)
        keyStarts.append(Int32(keyArena.count))
        keyLengths.append(Int32(key.count))
        valueStarts.append(Int32(valueArena.count))
        valueLengths.append(Int32(values.count))
        keyArena.append(contentsOf: key)
        valueArena.append(contentsOf: values)
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = e
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        hashes.removeAll(keepingCapacity: true)
        keyStarts.removeAll(keepingCapacity: true)
        keyLengths.removeAll(keepingCapacity: true)
        valueStarts.removeAll(keepingCapacity: true)
        valueLengths.removeAll(keepingCapacity: true)
        keyArena.removeAll(keepingCapacity: true)
        valueArena.removeAll(keepingCapacity: true)
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for e in hashes.indices {
            var i = Int(truncatingIfNeeded: hashes[e]) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(e)
        }
    }
}
