/// Finds a request's stop strings in UTF-8 text.
///
/// Matching is on UTF-8 bytes, which for valid UTF-8 is the same as Python's code-point `str.find` that SGLang
/// uses (UTF-8 is self-synchronizing, so a byte match always starts and ends on character boundaries). Swift's
/// grapheme-aware `String` comparison would differ: it never finds "e" in "e\u{301}".
struct StopStringMatcher: Sendable {
    /// The stop strings' bytes, empty strings dropped.
    let stops: [[UInt8]]
    /// The stop strings as given (parallel to `stops`).
    let strings: [String]
    /// The longest stop string, in bytes (0 when there are none).
    let maxLength: Int
    /// For every byte value, whether some stop string starts with it (a cheap filter on candidate starts).
    private let isFirstByte: [Bool]

    init(_ strings: [String]) {
        let kept = strings.filter { !$0.isEmpty }
        self.strings = kept
        stops = kept.map { Array($0.utf8) }
        maxLength = stops.map(\.count).max() ?? 0
        var first = [Bool](repeating: false, count: 256)
        for stop in stops { first[Int(stop[0])] = true }
        isFirstByte = first
    }

    var isEmpty: Bool { stops.isEmpty }

    /// The match with the smallest start among occurrences that end at or after `newFrom` (the text before
    /// `newFrom` was searched already); ties go to the shortest stop string, the one that completes first.
    func firstMatch(in text: [UInt8], newFrom: Int) -> (start: Int, index: Int)? {
        guard !stops.isEmpty else { return nil }
        let from = max(0, min(newFrom, text.count) - (maxLength - 1))
        var start = from
        while start < text.count {
            if isFirstByte[Int(text[start])] {
                var best: Int? = nil
                for (i, stop) in stops.enumerated() where start + stop.count <= text.count && start + stop.count > newFrom {
                    if matches(stop, text, at: start, count: stop.count), best.map({ stop.count < stops[$0].count }) ?? true {
                        best = i
                    }
                }
                if let best { return (start, best) }
            }
            start += 1
        }
        return nil
    }

    /// The first occurrence of `stop` in `text`, by bytes.
    static func firstOccurrence(of stop: [UInt8], in text: [UInt8]) -> Int? {
        guard !stop.isEmpty, stop.count <= text.count else { return stop.isEmpty ? 0 : nil }
        for start in 0...(text.count - stop.count) where text[start] == stop[0] {
            var k = 1
            while k < stop.count && text[start + k] == stop[k] { k += 1 }
            if k == stop.count { return start }
        }
        return nil
    }

    /// Where a tail of `text` that could still grow into a stop string begins (`text.count` when none does):
    /// the smallest start whose suffix is a proper prefix of some stop string.
    func holdBackStart(in text: [UInt8]) -> Int {
        guard maxLength > 1 else { return text.count }
        var start = max(0, text.count - (maxLength - 1))
        while start < text.count {
            if isFirstByte[Int(text[start])] {
                let tail = text.count - start
                for stop in stops where stop.count > tail && matches(stop, text, at: start, count: tail) {
                    return start
                }
            }
            start += 1
        }
        return text.count
    }

    /// Whether `text[at..<at+count] == stop[0..<count]`.
    private func matches(_ stop: [UInt8], _ text: [UInt8], at: Int, count: Int) -> Bool {
        var k = 0
        while k < count && text[at + k] == stop[k] { k += 1 }
        return k == count
    }
}
