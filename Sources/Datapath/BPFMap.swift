internal import BPFShims
internal import CLibbpf
import Glibc

/// One BPF map by file descriptor, with typed element access. `K` and `V` are the ABI header's C structs, so sizes
/// always match the kernel's view; every failure names the map and key.
struct BPFMap {
    let name: String
    let fd: Int32
    let capacity: Int
    let keySize: Int

    init(object: OpaquePointer, name: String) throws {
        guard let map = bpf_object__find_map_by_name(object, name) else {
            throw DatapathError.missingObject(kind: "map", name: name)
        }
        self.name = name
        self.fd = bpf_map__fd(map)
        self.capacity = Int(bpf_map__max_entries(map))
        self.keySize = Int(bpf_map__key_size(map))
    }

    /// The number of entries, by walking the keys (no values are copied).
    func count() throws -> Int {
        var current = [UInt8](repeating: 0, count: max(keySize, 1))
        var next = current
        var count = 0
        var status = next.withUnsafeMutableBytes { bpf_map_get_next_key(fd, nil, $0.baseAddress) }
        while status == 0 {
            count += 1
            swap(&current, &next)
            status = current.withUnsafeBytes { key in
                next.withUnsafeMutableBytes { bpf_map_get_next_key(fd, key.baseAddress, $0.baseAddress) }
            }
        }
        if status != -ENOENT { try check(status, "count entries", map: name) }
        return count
    }

    func lookup<K: BitwiseCopyable, V: BitwiseCopyable>(_ key: K, as: V.Type = V.self) throws -> V? {
        var key = key
        var value = zeroed(V.self)
        let result = bpf_map_lookup_elem(fd, &key, &value)
        if result == -ENOENT { return nil }
        try check(result, "lookup", map: name, key: "\(key)")
        return value
    }

    /// Per-CPU maps return one value per possible CPU.
    func lookupPerCPU<K: BitwiseCopyable, V: BitwiseCopyable>(_ key: K, as: V.Type = V.self) throws -> [V] {
        var key = key
        let cpus = Int(libbpf_num_possible_cpus())
        let stride = (MemoryLayout<V>.size + 7) & ~7
        var buffer = [UInt8](repeating: 0, count: stride * max(cpus, 1))
        let result = buffer.withUnsafeMutableBytes { bpf_map_lookup_elem(fd, &key, $0.baseAddress) }
        if result == -ENOENT { return [] }
        try check(result, "lookup", map: name, key: "\(key)")
        return buffer.withUnsafeBytes { raw in
            (0..<cpus).map { raw.loadUnaligned(fromByteOffset: $0 * stride, as: V.self) }
        }
    }

    func update<K: BitwiseCopyable, V: BitwiseCopyable>(_ key: K, _ value: V) throws {
        var key = key
        var value = value
        try check(bpf_map_update_elem(fd, &key, &value, UInt64(BPF_ANY)), "update", map: name, key: "\(key)")
    }

    /// Deletes one entry; a missing entry is not an error (the goal state is reached either way).
    func delete<K: BitwiseCopyable>(_ key: K) throws {
        var key = key
        let result = bpf_map_delete_elem(fd, &key)
        if result == -ENOENT { return }
        try check(result, "delete", map: name, key: "\(key)")
    }

    /// Every key, read from the kernel (never from memory), so a restarted agent diffs against reality.
    func keys<K: BitwiseCopyable>(as: K.Type = K.self) throws -> [K] {
        var result: [K] = []
        var current = zeroed(K.self)
        var next = zeroed(K.self)
        var status = bpf_map_get_next_key(fd, nil, &next)
        while status == 0 {
            result.append(next)
            current = next
            status = bpf_map_get_next_key(fd, &current, &next)
        }
        if status != -ENOENT { try check(status, "iterate", map: name) }
        return result
    }

    /// Every entry, read in batches of 4,096 where the map type supports it (one syscall per batch), else key by key
    /// (an entry deleted between reading its key and its value is then skipped).
    func entries<K: BitwiseCopyable, V: BitwiseCopyable>(as: (K.Type, V.Type) = (K.self, V.self)) throws -> [(K, V)] {
        if let batched = try batchedEntries(as: (K.self, V.self)) { return batched }
        return try keys(as: K.self).compactMap { key in try lookup(key, as: V.self).map { (key, $0) } }
    }

    private func batchedEntries<K: BitwiseCopyable, V: BitwiseCopyable>(as: (K.Type, V.Type)) throws -> [(K, V)]? {
        let batch = 4096
        var result: [(K, V)] = []
        var keys = [K](repeating: zeroed(K.self), count: batch)
        var values = [V](repeating: zeroed(V.self), count: batch)
        // Resume tokens: key-sized for generic maps, 4 bytes for hash maps; 64 bytes covers both.
        var token = [UInt8](repeating: 0, count: max(64, MemoryLayout<K>.size))
        var next = token
        var first = true
        while true {
            var count = UInt32(batch)
            let status = token.withUnsafeMutableBytes { input in
                next.withUnsafeMutableBytes { output in
                    bulwark_map_lookup_batch(
                        fd, first ? nil : input.baseAddress, output.baseAddress, &keys, &values, &count)
                }
            }
            if first && (status == -EINVAL || status == -EOPNOTSUPP || status == -ENOTSUPP) { return nil }
            if status < 0 && status != -ENOENT { try check(status, "batch lookup", map: name) }
            for index in 0..<Int(count) { result.append((keys[index], values[index])) }
            if status == -ENOENT || count == 0 { return result }
            token = next
            first = false
        }
    }

    /// Writes many entries with one syscall per batch, falling back to one per entry for map types without batch
    /// support. Each entry is still written atomically; the batch as a whole is not.
    func update<K: BitwiseCopyable, V: BitwiseCopyable>(_ pairs: [(K, V)]) throws {
        guard !pairs.isEmpty else { return }
        var keys = pairs.map(\.0)
        var values = pairs.map(\.1)
        var count = UInt32(pairs.count)
        let result = bulwark_map_update_batch(fd, &keys, &values, &count)
        if result == 0 { return }
        if result == -EOPNOTSUPP || result == -ENOTSUPP || result == -EINVAL {
            for index in Int(count)..<pairs.count { try update(pairs[index].0, pairs[index].1) }
            return
        }
        if result == -E2BIG || result == -ENOSPC {
            throw DatapathError.mapFull(map: name, capacity: capacity, required: pairs.count)
        }
        try check(result, "batch update", map: name, key: "\(pairs[Int(count) < pairs.count ? Int(count) : 0].0)")
    }

    func delete<K: BitwiseCopyable>(_ keys: [K]) throws {
        guard !keys.isEmpty else { return }
        var buffer = keys
        var count = UInt32(keys.count)
        let result = bulwark_map_delete_batch(fd, &buffer, &count)
        if result == 0 { return }
        // Batch delete stops at the first missing key (ENOENT) or is unsupported: finish one by one.
        for index in Int(count)..<keys.count { try delete(keys[index]) }
    }
}

private let ENOTSUPP: Int32 = 524

func zeroed<T>(_ type: T.Type) -> T {
    withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer in
        let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
        return raw.load(as: T.self)
    }
}
