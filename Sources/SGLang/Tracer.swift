import Synchronization

/// Prefix tracing (spec §1.14): runs a program's body on a state that executes nothing, collecting the constant
/// text (roles rendered with the template) up to the first expression that needs the model.
final class Tracer: Sendable {
    /// Thrown into the traced body where it reads a variable or forks.
    struct Stop: Error {}

    private struct State {
        var core = ProgramState.Core()
        var stopped = false
    }
    private let state = Mutex(State())
    private let template: PromptTemplate

    init(template: PromptTemplate) {
        self.template = template
        state.withLock { $0.core.template = template }
    }

    /// The constant prefix seen so far.
    var prefix: String { state.withLock { $0.core.text } }

    func record(_ nodes: [Node], state owner: ProgramState) {
        state.withLock { s in
            for node in nodes where !s.stopped {
                do {
                    switch node {
                    case .text(let t): s.core.fill(t)
                    case .roleBegin(let r): try s.core.roleBegin(r, template: template)
                    case .roleEnd(let r): try s.core.roleEnd(r, template: template)
                    default: s.stopped = true
                    }
                } catch {
                    s.stopped = true
                }
            }
        }
    }

    /// Traces `body` on one argument value and returns its constant prefix.
    static func prefix<Arguments: Sendable>(of function: SGLFunction<Arguments>, arguments: Arguments,
                                            template: PromptTemplate) async -> String {
        let tracer = Tracer(template: template)
        let state = ProgramState(backend: nil, defaults: SamplingParameters(), stream: false,
                                 core: ProgramState.Core(), tracer: tracer)
        do { try await function.body(state, arguments) } catch {}
        return tracer.prefix
    }
}
