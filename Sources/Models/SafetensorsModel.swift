import JSON

/// The safetensors weights of a model folder: a single `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`weight_map`: tensor name → shard file name).
public final class SafetensorsModel: WeightSource {
    /// The model folder.
    public let folder: String
    /// The opened files, in shard-name order.
    public let files: [SafetensorsFile]
    /// Every tensor name, sorted.
    public let names: [String]
    private let fileIndexByTensor: [String: Int]

    /// Opens the weights of `folder`. A sharded checkpoint must be consistent: every tensor of the
    /// `weight_map` is in the shard it names, and no tensor appears in two shards.
    public init(folder: String) throws {
        self.folder = folder
        let indexPath = ModelFiles.join(folder, "model.safetensors.index.json")
        let singlePath = ModelFiles.join(folder, "model.safetensors")
        if ModelFiles.exists(indexPath) {
            let weightMap = try Self.readWeightMap(indexPath)
            let shardNames = Set(weightMap.values).sorted()
            var files: [SafetensorsFile] = []
            var fileIndex: [String: Int] = [:]
            for shard in shardNames {
                guard !shard.contains("/"), shard != "..", shard != "." else {
                    throw ModelError.invalidField(
                        "weight_map", reason: "shard name '\(shard)' in \(indexPath) must be a file name inside the folder")
                }
                files.append(try SafetensorsFile(path: ModelFiles.join(folder, shard)))
                fileIndex[shard] = files.count - 1
            }
            var byTensor: [String: Int] = [:]
            for (tensor, shard) in weightMap {
                guard let i = fileIndex[shard] else { continue }
                guard files[i].contains(tensor) else {
                    throw ModelError.invalidSafetensors(
                        path: files[i].path, tensor: tensor,
                        reason: "listed in model.safetensors.index.json but not present in this shard")
                }
                byTensor[tensor] = i
            }
            // Tensors a shard holds beyond the index still load, as long as no name is claimed twice.
            for (i, file) in files.enumerated() {
                for tensor in file.names {
                    if let owner = byTensor[tensor] {
                        if owner != i && weightMap[tensor] == nil {
                            throw ModelError.invalidSafetensors(
                                path: file.path, tensor: tensor, reason: "also stored in \(files[owner].path)")
                        }
                    } else {
                        byTensor[tensor] = i
                    }
                }
            }
            self.files = files
            fileIndexByTensor = byTensor
        } else if ModelFiles.exists(singlePath) {
            let file = try SafetensorsFile(path: singlePath)
            files = [file]
            fileIndexByTensor = Dictionary(uniqueKeysWithValues: file.names.map { ($0, 0) })
        } else {
            throw ModelError.noWeights(folder: folder)
        }
        names = fileIndexByTensor.keys.sorted()
    }

    public func info(named name: String) throws -> TensorInfo {
        guard let i = fileIndexByTensor[name] else { throw ModelError.missingTensor(name) }
        return try files[i].info(named: name)
    }

    public func tensor(named name: String) throws -> TensorData {
        guard let i = fileIndexByTensor[name] else { throw ModelError.missingTensor(name) }
        return try files[i].tensor(named: name)
    }

    /// The file that holds `name`, nil when absent.
    public func file(holding name: String) -> SafetensorsFile? {
        fileIndexByTensor[name].map { files[$0] }
    }

    private static func readWeightMap(_ path: String) throws -> [String: String] {
        let bytes = try ModelFiles.readBytes(path)
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes)
        } catch {
            throw ModelError.invalidJSON(path: path, reason: "\(error)")
        }
        guard let map = json["weight_map"]?.objectValue else {
            throw ModelError.invalidJSON(path: path, reason: "no 'weight_map' object")
        }
        var result: [String: String] = [:]
        for (tensor, file) in map {
            guard let name = file.stringValue else {
                throw ModelError.invalidJSON(path: path, reason: "weight_map entry '\(tensor)' is not a file name")
            }
            result[tensor] = name
        }
        return result
    }
}
