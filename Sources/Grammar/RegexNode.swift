/// The parsed form of a regex: code-point sets joined by concatenation, alternation and counted repetition.
/// Lazy quantifiers parse to the same node as greedy ones: for a full match they accept the same language.
indirect enum RegexNode: Sendable, Equatable {
    /// Matches the empty string.
    case empty
    /// One code point from the set.
    case set(ScalarSet)
    case concat([RegexNode])
    case alt([RegexNode])
    /// `min` to `max` (nil: unbounded) repetitions.
    case repetition(RegexNode, min: Int, max: Int?)
    /// `^` / `\A`: matches only at the start of the text.
    case startAnchor
    /// `$` / `\Z`: matches only at the end of the text.
    case endAnchor
}
