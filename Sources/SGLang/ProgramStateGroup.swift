/// How a fork's children are joined back into their parent.
public enum JoinMode: String, Sendable, Hashable {
    /// Variables the children created become lists on the parent, in child order; the parent's text is unchanged.
    case gatherVariable = "gather_variable"
    /// Each child's text after the fork point is appended to the parent's text, in order.
    case concateAndAppend = "concate_and_append"
}

extension ProgramState {
    /// Forks the program into `n` children that continue from the current text (spec §1.6). With n > 1 the
    /// prefix is committed to the backend first, so the children share its cached KV.
    /// - Throws: `SGLangError.invalidProgram` for n < 1, or the program's error.
    public func fork(_ n: Int) async throws -> ProgramStateGroup {
        guard n >= 1 else { throw SGLangError.invalidProgram("fork needs at least one child, found \(n)") }
        if tracer != nil { throw Tracer.Stop() }
        if n > 1, !core.withLock({ $0.text.isEmpty }) { submit(Expr([.commitLazy])) }
        await sync()
        if let e = core.withLock({ $0.error }) { throw SGLangError.programFailed("cannot fork: \(e)") }
        var snapshot = core.withLock { c -> Core in
            var copy = Core()
            copy.text = c.text
            copy.messages = c.messages
            copy.variables = c.variables
            copy.meta = c.meta
            copy.images = c.images
            copy.currentImages = c.currentImages
            copy.currentRole = c.currentRole
            copy.roleBegin = c.roleBegin
            copy.scopes = c.scopes
            copy.template = c.template
            return copy
        }
        snapshot.forkStart = snapshot.text.utf8.count
        let children = (0..<n).map { _ in
            ProgramState(backend: backend, defaults: defaults, stream: isStreaming, core: snapshot, tracer: nil)
        }
        return ProgramStateGroup(parent: self, children: children)
    }
}

/// The children of a fork (SGLang's `ProgramStateGroup`).
public struct ProgramStateGroup: Sendable {
    /// The state that forked.
    public let parent: ProgramState
    /// The children, in order.
    public let children: [ProgramState]

    /// Child `i`.
    public subscript(i: Int) -> ProgramState { children[i] }
    /// Number of children.
    public var count: Int { children.count }

    /// Appends the same expression to every child.
    public static func += (group: ProgramStateGroup, expr: Expr) {
        for c in group.children { c.submit(expr) }
    }

    /// Appends one expression per child (`forks += [e0, e1, …]`).
    /// - Throws: `SGLangError.invalidProgram` when the counts differ.
    public func append(_ exprs: [Expr]) throws {
        guard exprs.count == children.count else {
            throw SGLangError.invalidProgram("\(exprs.count) expressions for \(children.count) forks")
        }
        for (c, e) in zip(children, exprs) { c.submit(e) }
    }

    /// Appends a per-index expression to every child (`forks += lambda i: …`).
    public func append(_ make: (Int) -> Expr) {
        for (i, c) in children.enumerated() { c.submit(make(i)) }
    }

    /// Joins the children back into the parent and ends them.
    /// - Throws: the first child's error.
    public func join(_ mode: JoinMode = .gatherVariable) async throws {
        switch mode {
        case .gatherVariable:
            await parent.sync()
            let before = parent.core.withLock { Set($0.variables.keys) }
            var gathered: [String: [String]] = [:]
            var order: [String] = []
            for child in children {
                await child.sync()
                if let e = child.core.withLock({ $0.error }) {
                    for c in children { await c.end() }
                    throw SGLangError.programFailed("a fork failed: \(e)")
                }
                let vars = child.core.withLock { $0.variables }
                for (k, v) in vars.sorted(by: { $0.key < $1.key }) where !before.contains(k) {
                    if gathered[k] == nil { order.append(k) }
                    gathered[k, default: []].append(v.string)
                }
            }
            parent.core.withLock { c in
                for k in order { c.variables[k] = .list(gathered[k] ?? []) }
            }
        case .concateAndAppend:
            parent.submit(Expr([.concatenate(children)]))
            await parent.sync()
        }
        for c in children { await c.end() }
        if let e = parent.core.withLock({ $0.error }), mode == .concateAndAppend {
            throw SGLangError.programFailed("join failed: \(e)")
        }
    }
}
