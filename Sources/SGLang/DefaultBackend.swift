import Synchronization

private let defaultBackendStore = Mutex<(any Backend)?>(nil)

/// Sets the backend programs use when `run` is given none (SGLang's `set_default_backend`).
public func setDefaultBackend(_ backend: (any Backend)?) {
    defaultBackendStore.withLock { $0 = backend }
}

/// The backend set with `setDefaultBackend`, if any.
public func defaultBackend() -> (any Backend)? {
    defaultBackendStore.withLock { $0 }
}

/// Empties the default backend's prefix cache (SGLang's `flush_cache`).
/// - Throws: `SGLangError.invalidProgram` when no default backend is set, or the backend's error.
public func flushCache(backend: (any Backend)? = nil) async throws -> Bool {
    guard let b = backend ?? defaultBackend() else {
        throw SGLangError.invalidProgram("no backend: pass one or call setDefaultBackend first")
    }
    return try await b.flushCache()
}
