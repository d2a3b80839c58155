import JSON

/// A compiled Jinja template, rendered with the semantics Hugging Face transformers uses for chat
/// templates: jinja2's `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with the
/// `loopcontrols` extension, the `{% generation %}` block, and the `raise_exception`, `strftime_now`
/// and `tojson` helpers.
///
/// Compile once and render many times; a `Template` is immutable and safe to share between threads.
/// Rendering is sandboxed (no file, environment or network access) and bounded by `RenderLimits`.
public struct Template: Sendable {
    let body: [Statement]
    /// The bounds applied to every render.
    public var limits: RenderLimits

    /// Parses `source`; throws `JinjaError.syntax` with a position for invalid templates.
    public init(_ source: String, limits: RenderLimits = RenderLimits()) throws {
        self.body = try Parser.parse(source)
        self.limits = limits
    }

    /// Renders with the given top-level variables.
    ///
    /// Throws `JinjaError.raised` when the template calls `raise_exception(message)`, and other
    /// `JinjaError` cases for runtime errors and exceeded limits.
    public func render(_ context: [String: Value]) throws -> String {
        let interpreter = Interpreter(context: context, limits: limits)
        _ = try interpreter.execute(body)
        return interpreter.out
    }
}
