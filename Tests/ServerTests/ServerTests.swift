import Testing

/// Every server suite runs one after another: they share the SmolLM2 model and the machine's two cores.
@Suite(.serialized) struct ServerTests {}
