import Testing

@testable import CUDA

/// Library discovery and the errors a machine without CUDA gets (CI has no GPU and no libcuda).
@Suite struct CUDALibraryTests {
    @Test func missingLibraryNamesItAndTheFix() throws {
        let candidates = ["/nonexistent-sglang/libcuda.so.1", "libcuda-sglang-test-missing.so.1"]
        do {
            _ = try CUDALibrary.open(candidates, library: "libcuda.so.1", hint: CUDALibrary.driver.hint)
            Issue.record("opening a missing library succeeded")
        } catch let error as CUDAError {
            guard case .libraryNotFound(let library, let tried, _, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(library == "libcuda.so.1")
            #expect(tried == candidates)
            let text = error.description
            #expect(text.contains("libcuda.so.1"))
            #expect(text.contains("Install the NVIDIA driver"))
            #expect(text.contains("SGLANG_CUDA_LIB_DIR"))
        }
    }

    /// Every driver entry point goes through `CUDADriver.shared()`: without libcuda each throws the clear
    /// error; with a driver (a GPU machine) the device count is a real answer.
    @Test func driverEntryPointsThrowTheClearErrorWithoutADriver() throws {
        let entryPoints: [(String, () throws -> Void)] = [
            ("CUDADevice.count", { _ = try CUDADevice.count() }),
            ("CUDAContext", { _ = try CUDAContext(device: 0) }),
            ("CUDADriver.shared", { _ = try CUDADriver.shared() }),
        ]
        for (name, call) in entryPoints {
            do {
                try call()
                #expect(try CUDADevice.count() > 0, "\(name) succeeded, so a device must be visible")
            } catch let error as CUDAError {
                switch error {
                case .libraryNotFound(let library, _, _, let hint):
                    #expect(library == "libcuda.so.1", "\(name)")
                    #expect(hint.contains("NVIDIA driver"), "\(name)")
                case .noDevice, .driver:
                    // A driver without a usable device: the error comes from the driver itself.
                    #expect(!error.description.isEmpty)
                default:
                    Issue.record("\(name): unexpected error \(error)")
                }
            }
        }
    }

    /// NCCL is opened only for tensor parallelism: without it the error names libnccl.so.2, the pip package and
    /// `--tp-size 1`; where it is installed (a GPU machine, or the pip wheel) its version is a real answer.
    @Test func ncclLoadsOrSaysHowToInstallIt() throws {
        #expect(CUDALibrary.nccl.candidates(environment: ["SGLANG_CUDA_LIB_DIR": "/opt/n"]).prefix(2)
            == ["/opt/n/libnccl.so.2", "/opt/n/libnccl.so"])
        do {
            let nccl = try NCCL.shared()
            #expect(nccl.version >= 20_000, "NCCL at \(nccl.path) reports version \(nccl.version)")
        } catch let error as CUDAError {
            guard case .libraryNotFound(let library, _, _, let hint) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(library == "libnccl.so.2")
            #expect(hint.contains("nvidia-nccl") && hint.contains("SGLANG_CUDA_LIB_DIR"))
            #expect(error.description.contains("--tp-size 1"))
        }
    }

    @Test func searchOrderHonoursTheEnvironment() {
        let env = ["SGLANG_CUDA_LIB_DIR": "/opt/a:/opt/b", "CUDA_HOME": "/opt/toolkit"]
        let c = CUDALibrary.nvrtc.candidates(environment: env)
        #expect(Array(c.prefix(6)) == [
            "/opt/a/libnvrtc.so.13", "/opt/a/libnvrtc.so.12", "/opt/a/libnvrtc.so",
            "/opt/b/libnvrtc.so.13", "/opt/b/libnvrtc.so.12", "/opt/b/libnvrtc.so",
        ])
        // The system loader's own search comes next, then the toolkit folders.
        #expect(Array(c[6..<9]) == CUDALibrary.nvrtc.fileNames)
        #expect(c[9] == "/opt/toolkit/lib64/libnvrtc.so.13")
        // pip wheels: every site-packages found contributes its nvidia/cu13/lib and nvidia/cuda_nvrtc/lib.
        for site in CUDALibrary.sitePackages(environment: env) {
            #expect(c.contains(site + "/nvidia/cu13/lib/libnvrtc.so.13"))
            #expect(c.contains(site + "/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"))
        }
        #expect(!CUDALibrary.driver.candidates(environment: [:]).contains { $0.contains("site-packages") })
    }
}
